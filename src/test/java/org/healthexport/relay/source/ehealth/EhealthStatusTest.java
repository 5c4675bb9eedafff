package org.healthexport.relay.source.ehealth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.healthexport.relay.http.UrlPolicy;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobFile;
import org.healthexport.relay.job.JobState;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The status bean on its own: the documented answers, malformed ones, and each outcome's effect on the job. */
class EhealthStatusTest {
    static final String PENDING_DOCS = """
            {"data":{"status":"pending","eta":"2018-08-02T10:45:16.000Z",
              "links":[{"entity":"job","href":"/Jobs/NBXk9EyErUZv1RhXgyvgg"}]},
             "meta":{"code":200,"url":"http://example.com/resource","type":"object","request_id":"req-adasdoijasdojsda"}}""";
    static final String PROCESSED_DOCS = """
            {"data":{"status":"processed","eta":"2018-08-02T10:45:16.000Z",
              "links":[{"entity":"encounter","href":"{host}/api/patients/3da18c10-d2ca-469e-bde5-7413201cea2/encounters/90a9e15b-b71b-4caf-8f2e-ff247e8a5600"},
                       {"entity":"condition","href":"{host}/api/patients/3da18c10-d2ca-469e-bde5-7413201cea2/conditions/df112200-64da-451b-bf77-8e7655bbd48f"},
                       {"entity":"medication_statemet","href":"{host}/api/patients/3da18c10-d2ca-469e-bde5-7413201cea2/medication_statemets/42e5985d-2a79-452f-8bc4-ed3a02fdefc5"},
                       {"entity":"procedure","href":"{host}/api/patients/3da18c10-d2ca-469e-bde5-7413201cea2/procedure/42e5985d-2a79-452f-8bc4-ed3a02fdefc5"}],
              "status_code":"200"},
             "meta":{"code":303,"url":"http://example.com/resource","type":"object","request_id":"req-adasdoijasdojsda"}}""";
    static final String FAILED_422 = """
            {"data":{"status":"failed","status_code":422,"eta":"2018-08-02T10:45:16.000Z",
              "error":{"type":"validation_failed","message":"Validation failed.",
                "invalid":[{"entry_type":"json_data_property","entry":"$.encounter.period",
                            "rules":[{"rule":"required","params":[],"description":"required property period was not present"}]},
                           {"entry_type":"json_data_property","entry":"$.conditions[0].code",
                            "rules":[{"rule":"invalid","params":["x"],"description":"Value is not allowed in enum"}]}]}},
             "meta":{"code":200,"url":"http://example.com/resource","type":"object","request_id":"req-422"}}""";
    static final String FAILED_DOCS = """
            {"data":{"error":"Error description","eta":"2018-08-02T10:45:16.000Z","status":"failed","status_code":"403"},
             "meta":{"code":200,"url":"http://example.com/resource","type":"object","request_id":"req-adasdoijasdojsda"}}""";

    final EhealthFixture fx;
    final EhealthStatus bean;

    EhealthStatusTest() throws Exception {
        fx = new EhealthFixture();
        bean = fx.status();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsTheDocumentedPendingAnswer() {
        EhealthJobStatus s = bean.parse(200, utf8(PENDING_DOCS));
        assertThat(s.status()).isEqualTo("pending");
        assertThat(s.requestId()).isEqualTo("req-adasdoijasdojsda");
        assertThat(s.eta()).isEqualTo(Instant.parse("2018-08-02T10:45:16Z"));
        assertThat(s.links()).extracting(JobEnvelope.Link::entity).containsExactly("job");
        assertThat(s.hasResponseData()).isFalse();
    }

    @Test
    void readsTheDocumented303WithItsLinksAndMisspelledEntity() {
        EhealthJobStatus s = bean.parse(303, utf8(PROCESSED_DOCS));
        assertThat(s.status()).isEqualTo("processed");
        assertThat(s.statusCode()).isEqualTo("200");
        assertThat(s.links()).extracting(JobEnvelope.Link::entity)
                .containsExactly("encounter", "condition", "medication_statemet", "procedure");
    }

    @Test
    void readsAStructuredFailureWithItsInvalidEntries() {
        EhealthJobStatus s = bean.parse(200, utf8(FAILED_422));
        assertThat(s.status()).isEqualTo("failed");
        assertThat(s.statusCode()).isEqualTo("422"); // a number in this answer, a string in others
        assertThat(s.error().type()).isEqualTo("validation_failed");
        assertThat(s.error().invalid()).hasSize(2);
        assertThat(s.error().describe()).isEqualTo("validation_failed: Validation failed.; invalid: "
                + "$.encounter.period (json_data_property): required \"required property period was not present\"; "
                + "$.conditions[0].code (json_data_property): invalid \"Value is not allowed in enum\"");
    }

    @Test
    void readsThePlainStringErrorOfTheDocsAndThe2019ErrorsField() {
        EhealthJobStatus s = bean.parse(200, utf8(FAILED_DOCS));
        assertThat(s.statusCode()).isEqualTo("403");
        assertThat(s.error().message()).isEqualTo("Error description");
        EhealthJobStatus old = bean.parse(200, utf8("""
                {"data":{"status":"failed_with_error","status_code":409,"errors":{"type":"request_conflict","message":"Already cancelled"}},
                 "meta":{"request_id":"r"}}"""));
        assertThat(old.status()).isEqualTo("failed_with_error");
        assertThat(old.error().describe()).isEqualTo("request_conflict: Already cancelled");
    }

    @Test
    void ignoresUnknownFieldsAndUpperCaseStatus() {
        EhealthJobStatus s = bean.parse(200, utf8("""
                {"data":{"status":"PENDING","new_field":{"x":1},"links":null},"meta":{"request_id":"r1","extra":true},"paging":{}}"""));
        assertThat(s.status()).isEqualTo("pending");
        assertThat(s.links()).isEmpty();
        assertThat(s.eta()).isNull();
    }

    @Test
    void malformedJobAnswersAreErrorsThatKeepThePolling() {
        for (String body : List.of("", "<html>Bad gateway</html>", "{}", "{\"data\":\"x\"}", "null", "{\"data\":{\"links\":{}}}",
                "{\"data\":{\"status\":\"pending\"")) {
            assertThatThrownBy(() -> bean.parse(200, utf8(body))).as(body)
                    .isInstanceOf(EhealthResponseException.class).hasMessageContaining("unreadable job status");
        }
        assertThatThrownBy(() -> bean.parse(303, utf8("not json"))).isInstanceOf(EhealthResponseException.class)
                .hasMessageContaining("HTTP 303").hasMessageContaining("not json");
    }

    @Test
    void errorAnswersAreReadLeniently() {
        EhealthJobStatus notFound = bean.parse(404, utf8("""
                {"meta":{"code":404,"request_id":"req-404"},"error":{"type":"not_found","message":"Job not found"}}"""));
        assertThat(notFound.requestId()).isEqualTo("req-404");
        assertThat(notFound.summary()).isEqualTo("HTTP 404 (request_id req-404): not_found: Job not found");
        EhealthJobStatus proxy = bean.parse(502, utf8("<html><body>Bad gateway</body></html>"));
        assertThat(proxy.status()).isNull();
        assertThat(proxy.summary()).isEqualTo("HTTP 502: <html><body>Bad gateway</body></html>");
        assertThat(bean.parse(503, new byte[0]).summary()).isEqualTo("HTTP 503");
    }

    @Test
    void responseDataIsKeptByteForByte() {
        String value = "{ \"approval_id\" : \"a1\",  \"amount\": 1.50, \"text\": \"Пацієнт \\u0041\", \"nested\": {\"response_data\": [1, 2]} }";
        String body = "{\"meta\":{\"request_id\":\"r\",\"data\":{\"response_data\":\"decoy\"}},\"data\": {\"status\":\"processed\","
                + "\"status_code\":200, \"response_data\" :   " + value + "  , \"eta\":\"2018-08-02T10:45:16.000Z\"}}";
        EhealthJobStatus s = bean.parse(200, utf8(body));
        assertThat(s.hasResponseData()).isTrue();
        assertThat(new String(s.responseData(), StandardCharsets.UTF_8)).isEqualTo(value);

        EhealthJobStatus text = bean.parse(200, utf8("{\"data\":{\"status\":\"processed\",\"response_data\":\"a \\\"b\\\" Ї\"}}"));
        assertThat(new String(text.responseData(), StandardCharsets.UTF_8)).isEqualTo("\"a \\\"b\\\" Ї\"");
        EhealthJobStatus number = bean.parse(200, utf8("{\"data\":{\"response_data\":12.50,\"status\":\"processed\"}}"));
        assertThat(new String(number.responseData(), StandardCharsets.UTF_8)).isEqualTo("12.50");
        EhealthJobStatus none = bean.parse(200, utf8("{\"data\":{\"response_data\":null,\"status\":\"processed\"}}"));
        assertThat(none.hasResponseData()).isFalse();
    }

    @Test
    void etaIsReadWithOrWithoutOffset() {
        assertThat(EhealthStatus.eta("2018-08-02T10:45:16.000Z")).isEqualTo(Instant.parse("2018-08-02T10:45:16Z"));
        assertThat(EhealthStatus.eta("2018-08-02T10:45:16.000")).isEqualTo(Instant.parse("2018-08-02T10:45:16Z"));
        assertThat(EhealthStatus.eta("2018-08-02T13:45:16+03:00")).isEqualTo(Instant.parse("2018-08-02T10:45:16Z"));
        assertThat(EhealthStatus.eta("soon")).isNull();
        assertThat(EhealthStatus.eta(null)).isNull();
    }

    // ---- links ---------------------------------------------------------------------------------------

    @Test
    void hrefsAreResolvedAgainstTheBaseUrl() throws Exception {
        var source = fx.source();
        assertThat(EhealthStatus.resolve(source, "/api/patients/p/encounters/e"))
                .isEqualTo(URI.create("https://api.ehealth.example/api/patients/p/encounters/e"));
        assertThat(EhealthStatus.resolve(source, "{host}/api/patients/p/encounters/e"))
                .isEqualTo(URI.create("https://api.ehealth.example/api/patients/p/encounters/e"));
        assertThat(EhealthStatus.resolve(source, "https://api.ehealth.example/api/patients/p/conditions/c"))
                .isEqualTo(URI.create("https://api.ehealth.example/api/patients/p/conditions/c"));
        Properties gw = new Properties();
        gw.setProperty("relay.sources.ehr.base-url", "https://gw.example/ehealth/");
        var gateway = new EhealthFixture(gw).source();
        assertThat(EhealthStatus.resolve(gateway, "/api/patients/p/x/1")).isEqualTo(URI.create("https://gw.example/ehealth/api/patients/p/x/1"));
        assertThat(EhealthStatus.resolve(gateway, "{host}/api/patients/p/x/1")).isEqualTo(URI.create("https://gw.example/ehealth/api/patients/p/x/1"));
        assertThat(EhealthStatus.resolve(gateway, "/ehealth/api/patients/p/x/1")).isEqualTo(URI.create("https://gw.example/ehealth/api/patients/p/x/1"));
        assertThat(EhealthStatus.resolve(gateway, "api/patients/p/x/1")).isEqualTo(URI.create("https://gw.example/ehealth/api/patients/p/x/1"));
    }

    @Test
    void eachLinkIsPlannedAsEntityFolderAndIdWithTheJobLinkAndRepeatsLeftOut() {
        ExportJob job = fx.adoptAndClaim("65f0a1b2000000000000000a");
        List<JobFile> files = EhealthStatus.plan(job, fx.source(), "ehealth/j", List.of(
                new JobEnvelope.Link("job", "/jobs/65f0a1b2000000000000000a"),
                new JobEnvelope.Link("encounter", "/api/patients/p/encounters/e1"),
                new JobEnvelope.Link("encounter", "{host}/api/patients/p/encounters/e1"),
                new JobEnvelope.Link("medication_statemet", "https://api.ehealth.example/api/patients/p/medication_statemets/m1/"),
                new JobEnvelope.Link("../../etc", "/api/patients/p/x/..%2F..%2Fpasswd"),
                new JobEnvelope.Link("self", job.statusUrl()),
                new JobEnvelope.Link("condition", "/api/patients/p/conditions/c1"),
                new JobEnvelope.Link("condition", "/api/patients/p/other/c1")));
        assertThat(files).extracting(JobFile::targetKey).containsExactly(
                "ehealth/j/encounter/e1.json",
                "ehealth/j/medication_statemet/m1.json",
                "ehealth/j/_.._etc/_.._passwd.json",
                "ehealth/j/condition/c1.json",
                "ehealth/j/condition/c1-2.json");
        assertThat(files).extracting(JobFile::type).containsExactly("encounter", "medication_statemet", "../../etc",
                "condition", "condition");
        assertThat(files).extracting(JobFile::url).first().isEqualTo("https://api.ehealth.example/api/patients/p/encounters/e1");
    }

    @Test
    void aLinkToAnotherHostIsRefused() {
        ExportJob job = fx.adoptAndClaim("65f0a1b2000000000000000b");
        assertThatThrownBy(() -> EhealthStatus.plan(job, fx.source(), "f", List.of(
                new JobEnvelope.Link("encounter", "https://evil.example/api/patients/p/encounters/e1"))))
                .isInstanceOf(UrlPolicy.RefusedUrlException.class).hasMessageContaining("evil.example");
        assertThatThrownBy(() -> EhealthStatus.plan(job, fx.source(), "f", List.of(
                new JobEnvelope.Link("encounter", "//evil.example/api/x"))))
                .isInstanceOf(UrlPolicy.RefusedUrlException.class);
        assertThatThrownBy(() -> EhealthStatus.plan(job, fx.source(), "f", List.of(
                new JobEnvelope.Link("encounter", null)))).isInstanceOf(UrlPolicy.RefusedUrlException.class)
                .hasMessageContaining("no href");
        assertThatThrownBy(() -> EhealthStatus.plan(job, fx.source(), "f", List.of(
                new JobEnvelope.Link("encounter", "https://api.ehealth.example/a b?signature=s3cret"))))
                .isInstanceOf(UrlPolicy.RefusedUrlException.class).hasMessageContaining("not a URL")
                .hasMessageNotContaining("s3cret");
    }

    // ---- outcomes on a real store ---------------------------------------------------------------------

    @Test
    void pendingWaitsUntilTheEtaClampedToMaxWait() {
        ExportJob job = fx.adoptAndClaim("65f0a1b2000000000000000c");
        Instant before = Instant.now();
        String eta = DateTimeFormatter.ISO_INSTANT.format(before.plusSeconds(5));
        ExportJob after = bean.pending(job, bean.parse(200, utf8("{\"data\":{\"status\":\"pending\",\"eta\":\"" + eta
                + "\"},\"meta\":{\"request_id\":\"req-p1\"}}")));
        assertThat(after.state()).isEqualTo(JobState.RUNNING);
        assertThat(after.vendorStatus()).isEqualTo("pending");
        assertThat(after.requestId()).isEqualTo("req-p1");
        assertThat(Duration.between(before, after.nextPollAt())).isBetween(Duration.ofMillis(4900), Duration.ofSeconds(7));

        ExportJob far = fx.adoptAndClaim("65f0a1b2000000000000000d");
        ExportJob clamped = bean.pending(far, bean.parse(200, utf8("{\"data\":{\"status\":\"pending\",\"eta\":\""
                + DateTimeFormatter.ISO_INSTANT.format(before.plusSeconds(60_000)) + "\"}}")));
        assertThat(Duration.between(before, clamped.nextPollAt())).isBetween(Duration.ofSeconds(29), Duration.ofSeconds(32));

        ExportJob past = fx.adoptAndClaim("65f0a1b2000000000000000e");
        ExportJob backoff = bean.pending(past, bean.parse(200, utf8("{\"data\":{\"status\":\"pending\",\"eta\":\"2018-08-02T10:45:16.000Z\"}}")));
        // an eta in the past: the usual backoff (initial 2s with jitter), never below min-wait
        assertThat(Duration.between(before, backoff.nextPollAt())).isBetween(Duration.ofMillis(900), Duration.ofSeconds(3));
    }

    @Test
    void anEtaCenturiesAwayIsClampedNotAnOverflow() {
        // found while writing EhealthStatusProperties: Duration.toMillis() overflowed for an eta in the year 999999999
        ExportJob job = fx.adoptAndClaim("65f0a1b2000000000000000f");
        Instant before = Instant.now();
        ExportJob after = bean.pending(job, bean.parse(200, utf8(
                "{\"data\":{\"status\":\"pending\",\"eta\":\"+999999999-12-31T23:59:59Z\"}}")));
        assertThat(after.state()).isEqualTo(JobState.RUNNING);
        assertThat(Duration.between(before, after.nextPollAt())).isBetween(Duration.ofSeconds(29), Duration.ofSeconds(32));
    }

    @Test
    void aFailedJobEndsWithItsErrorsAndANotification() throws Exception {
        ExportJob job = fx.adoptAndClaim("65f0a1b2000000000000000f");
        ExportJob after = bean.failed(job, bean.parse(200, utf8(FAILED_422)));
        assertThat(after.state()).isEqualTo(JobState.FAILED);
        assertThat(after.requestId()).isEqualTo("req-422");
        assertThat(after.lastError()).startsWith("eHealth job 65f0a1b2000000000000000f failed with status_code 422"
                + " (request_id req-422): validation_failed: Validation failed.; invalid: $.encounter.period");
        assertThat(after.attribute("ehealthStatusCode")).isEqualTo("422");
        assertThat(after.attribute("ehealthErrorType")).isEqualTo("validation_failed");
        assertThat(fx.notifications()).hasSize(1);
        JsonNode n = new ObjectMapper().readTree(fx.notifications().get(0).toFile());
        assertThat(n.path("state").asText()).isEqualTo("FAILED");
        assertThat(n.path("vendorJobId").asText()).isEqualTo("65f0a1b2000000000000000f");
        assertThat(n.path("ids").path("requestId").asText()).isEqualTo("req-422");
        assertThat(n.path("reason").asText()).contains("$.conditions[0].code (json_data_property): invalid");
        assertThat(n.path("suggestedAction").asText()).contains("invalid[]");
    }

    @Test
    void suggestedActionsFollowTheStatusCode() {
        assertThat(EhealthStatus.failedAction("409", EhealthError.NONE)).contains("conflicts");
        assertThat(EhealthStatus.failedAction(null, new EhealthError("internal_error", null, List.of()))).contains("later");
        assertThat(EhealthStatus.failedAction("404", EhealthError.NONE)).contains("not found");
        assertThat(EhealthStatus.failedAction("403", EhealthError.NONE)).contains("scopes");
        assertThat(EhealthStatus.failedAction("418", EhealthError.NONE)).contains("request_id");
    }

    @Test
    void responseDataIsWrittenAndRecordedBeforeTheJobIsReady() throws Exception {
        ExportJob job = fx.adoptAndClaim("65f0a1b20000000000000010");
        String value = "{\"a\" : 1.50}";
        ExportJob ready = bean.responseData(job, bean.parse(200, utf8("{\"data\":{\"status\":\"processed\",\"response_data\":"
                + value + "},\"meta\":{\"request_id\":\"req-rd\"}}")));
        assertThat(ready.state()).isEqualTo(JobState.READY);
        assertThat(ready.attribute("folder")).isEqualTo("ehealth/65f0a1b20000000000000010");
        assertThat(Files.readString(fx.root.resolve("ehealth/65f0a1b20000000000000010/response.json"))).isEqualTo(value);
        List<JobFile> files = fx.store.files(job.id());
        assertThat(files).singleElement().satisfies(f -> {
            assertThat(f.isDelivered()).isTrue();
            assertThat(f.bytes()).isEqualTo(value.length());
            assertThat(f.url()).isEqualTo(job.statusUrl());
        });
    }

    @Test
    void anUnknownJobFails() {
        ExportJob job = fx.adoptAndClaim("65f0a1b20000000000000011");
        ExportJob after = bean.unknownJob(job, bean.parse(404, utf8(
                "{\"meta\":{\"code\":404,\"request_id\":\"req-nf\"},\"error\":{\"type\":\"not_found\",\"message\":\"Job not found\"}}")));
        assertThat(after.state()).isEqualTo(JobState.FAILED);
        assertThat(after.lastError()).isEqualTo("eHealth does not know job 65f0a1b20000000000000011: HTTP 404"
                + " (request_id req-nf): not_found: Job not found");
        assertThat(after.attribute("suggestedAction")).contains("base-url");
    }

    @Test
    void aRefusedLinkFailsTheJobWithoutPlanningFiles() {
        ExportJob job = fx.adoptAndClaim("65f0a1b20000000000000012");
        ExportJob after = bean.linkedEntities(job, bean.parse(303, utf8("{\"data\":{\"status\":\"processed\",\"links\":"
                + "[{\"entity\":\"encounter\",\"href\":\"https://elsewhere.example/api/patients/p/encounters/e\"}]}}")));
        assertThat(after.state()).isEqualTo(JobState.FAILED);
        assertThat(after.lastError()).contains("elsewhere.example").contains("allowed-hosts");
        assertThat(after.attribute("suggestedAction")).contains("allowed-hosts");
        assertThat(fx.store.files(job.id())).isEmpty();
    }
}
