package org.healthexport.relay.source.oracle;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.FaultLine;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.OracleHealthSandbox;
import org.healthexport.relay.sandbox.SandboxServer.RecordedRequest;
import org.healthexport.relay.auth.TestKeys;
import com.nimbusds.jose.jwk.RSAKey;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The oracle-health routes from the real YAML, end to end against the Oracle sandbox, delivering to a folder. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:oracle-route;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/oracle-route",
        "relay.sandbox.enabled=true",
        "relay.sandbox.oracle-health.retry-after=1",
        "relay.sandbox.oracle-health.client-id=relay-basic",
        "relay.sandbox.oracle-health.client-secret=s3cret",
        "relay.kickoff.wait=300ms",
        // a Group export, system account with its secret in a Basic header, token URL from the metadata
        "relay.sources.ora.kind=oracle-health",
        "relay.sources.ora.base-url={{relay.sandbox.oracle-health.url}}/r4/tenant-a",
        "relay.sources.ora.export=Group/" + OracleHealthSandbox.GROUP_3 + "/$export?_type=Patient,Observation",
        "relay.sources.ora.auth.client-id=relay-basic",
        "relay.sources.ora.auth.client-secret=s3cret",
        "relay.sources.ora.allowed-hosts=127.0.0.1",
        // two sources sharing one client and tenant: one export at a time between them
        "relay.sources.orab1.kind=oracle-health",
        "relay.sources.orab1.base-url={{relay.sandbox.oracle-health.url}}/r4/tenant-b",
        "relay.sources.orab1.export=Group/" + OracleHealthSandbox.GROUP_3 + "/$export?_type=Patient",
        "relay.sources.orab1.auth.client-id=relay-basic",
        "relay.sources.orab1.auth.client-secret=s3cret",
        "relay.sources.orab2.kind=oracle-health",
        "relay.sources.orab2.base-url={{relay.sandbox.oracle-health.url}}/r4/tenant-b",
        "relay.sources.orab2.export=Group/" + OracleHealthSandbox.GROUP_10 + "/$export?_type=Observation",
        "relay.sources.orab2.auth.client-id=relay-basic",
        "relay.sources.orab2.auth.client-secret=s3cret",
        // kick-offs answered 429 throttled
        "relay.sources.orac.kind=oracle-health",
        "relay.sources.orac.base-url={{relay.sandbox.oracle-health.url}}/r4/tenant-c",
        "relay.sources.orac.export=Group/" + OracleHealthSandbox.GROUP_3 + "/$export?_type=Patient",
        "relay.sources.orac.auth.client-id=relay-basic",
        "relay.sources.orac.auth.client-secret=s3cret",
        "relay.sources.orac.allowed-hosts=127.0.0.1",
        // a presigned link that expired: a fresh manifest
        "relay.sources.orad.kind=oracle-health",
        "relay.sources.orad.base-url={{relay.sandbox.oracle-health.url}}/r4/tenant-d",
        "relay.sources.orad.export=Group/" + OracleHealthSandbox.GROUP_3 + "/$export?_type=Patient,Observation",
        "relay.sources.orad.auth.client-id=relay-basic",
        "relay.sources.orad.auth.client-secret=s3cret",
        "relay.sources.orad.allowed-hosts=127.0.0.1",
        // Patient export by POST, signed JWT (the preferred mode), token URL from the metadata
        "relay.sources.orae.kind=oracle-health",
        "relay.sources.orae.base-url={{relay.sandbox.oracle-health.url}}/r4/tenant-e",
        "relay.sources.orae.export=Patient/$export?patient=Patient/12724066,Patient/12742400&_type=Patient",
        "relay.sources.orae.auth.client-id=relay-jwt",
        "relay.sources.orae.auth.key-id=relay-key-1",
        "relay.sources.orae.auth.private-key-file=" + OracleHealthRouteTest.KEY_FILE,
        "relay.sources.orae.allowed-hosts=127.0.0.1",
        // adopted Job_IDs
        "relay.sources.oraf.kind=oracle-health",
        "relay.sources.oraf.base-url={{relay.sandbox.oracle-health.url}}/r4/tenant-f",
        "relay.sources.oraf.export=Group/" + OracleHealthSandbox.GROUP_10 + "/$export?_type=Patient,Observation",
        "relay.sources.oraf.auth.client-id=relay-basic",
        "relay.sources.oraf.auth.client-secret=s3cret",
        "relay.sources.oraf.allowed-hosts=127.0.0.1",
        // a system account whose secret Oracle refuses
        "relay.sources.orag.kind=oracle-health",
        "relay.sources.orag.base-url={{relay.sandbox.oracle-health.url}}/r4/tenant-g",
        "relay.sources.orag.export=Group/" + OracleHealthSandbox.GROUP_3 + "/$export?_type=Patient",
        "relay.sources.orag.auth.client-id=relay-basic",
        "relay.sources.orag.auth.client-secret=wrong",
        // an export that outlives the relay's deadline
        "relay.sources.orah.kind=oracle-health",
        "relay.sources.orah.base-url={{relay.sandbox.oracle-health.url}}/r4/tenant-h",
        "relay.sources.orah.export=Group/" + OracleHealthSandbox.GROUP_3 + "/$export?_type=Patient",
        "relay.sources.orah.auth.client-id=relay-basic",
        "relay.sources.orah.auth.client-secret=s3cret",
        "relay.sources.orah.deadline=2s",
        // a token without the read scope of every type the adopted export holds (scopes follow _type=Patient)
        "relay.sources.orai.kind=oracle-health",
        "relay.sources.orai.base-url={{relay.sandbox.oracle-health.url}}/r4/tenant-i",
        "relay.sources.orai.export=Group/" + OracleHealthSandbox.GROUP_3 + "/$export?_type=Patient",
        "relay.sources.orai.auth.client-id=relay-basic",
        "relay.sources.orai.auth.client-secret=s3cret",
        "relay.sources.orai.allowed-hosts=127.0.0.1",
})
class OracleHealthRouteTest {
    static final ListAppender<ILoggingEvent> FAULT_LINES = new ListAppender<>();

    static {
        FAULT_LINES.start();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(FaultLine.class)).addAppender(FAULT_LINES);
    }

    static final String OUT = "target/test-outbox/oracle-route";
    static final String KEY_FILE = "target/oracle-route-key.json";
    static final RSAKey KEY = TestKeys.rsaKeyFile(KEY_FILE, "relay-key-1");

    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;

    OracleHealthSandbox sandbox() {
        return context.getRegistry().lookupByNameAndType("oracle-health-sandbox", OracleHealthSandbox.class);
    }

    JobStore store() {
        return context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
    }

    @Test
    void groupExportIsPolledAfterRetryAfterDeliveredWithoutTokenAtS3AndDeleted() throws Exception {
        OracleHealthSandbox sandbox = sandbox();
        ExportJob job = producer.requestBody("direct:kickoff-source", "ora", ExportJob.class);
        assertThat(job.state()).isEqualTo(JobState.SUBMITTED);
        assertThat(job.statusUrl()).contains("/r4/tenant-a/bulk-export/jobs/" + job.vendorJobId());

        await().atMost(Duration.ofSeconds(30)).until(() -> store().get(job.id()).state() == JobState.DELIVERED);
        ExportJob done = store().get(job.id());
        assertThat(done.requestId()).isIn(sandbox.requestIds());

        Path folder = Path.of(OUT, "ora", job.id());
        JsonNode receipt = new ObjectMapper().readTree(folder.resolve("receipt.json").toFile());
        List<OracleHealthSandbox.ExportFile> files = sandbox.files(job.vendorJobId());
        assertThat(receipt.path("files")).hasSize(files.size());
        assertThat(files).hasSize(4);
        for (JsonNode f : receipt.path("files")) {
            String fileId = f.path("sourceUrl").asText().replaceAll(".*/", "");
            byte[] expected = files.stream().filter(x -> x.id().equals(fileId)).findFirst().orElseThrow().content();
            assertThat(Files.readAllBytes(Path.of(OUT).resolve(f.path("key").asText()))).isEqualTo(expected);
        }
        assertThat(Files.exists(folder.resolve("error/OperationOutcome-1.ndjson"))).isTrue();
        assertThat(Files.exists(folder.resolve("Patient-2.ndjson"))).isTrue();

        // no token at the presigned links; the S3 stand-in refuses one
        assertThat(sandbox.storageRequests()).hasSizeGreaterThanOrEqualTo(4).noneMatch(RecordedRequest::hasAuthorization);
        // Retry-After honoured: never early, at least a second between polls
        assertThat(sandbox.earlyPolls()).isZero();
        List<RecordedRequest> polls = sandbox.requests().stream()
                .filter(r -> r.method().equals("GET") && r.path().endsWith("/bulk-export/jobs/" + job.vendorJobId())).toList();
        assertThat(polls).hasSize(3);
        for (int i = 1; i < polls.size(); i++) {
            assertThat(Duration.between(polls.get(i - 1).at(), polls.get(i).at())).isGreaterThanOrEqualTo(Duration.ofMillis(900));
        }
        // DELETE after the last file
        RecordedRequest delete = sandbox.requests().stream().filter(r -> r.method().equals("DELETE")
                && r.path().endsWith(job.vendorJobId())).findFirst().orElseThrow();
        RecordedRequest lastFile = sandbox.storageRequests().stream().reduce((a, b) -> b).orElseThrow();
        assertThat(delete.at()).isAfterOrEqualTo(lastFile.at());
        assertThat(sandbox.isDeleted(job.vendorJobId())).isTrue();
    }

    ExportJob awaitEnd(String jobId, JobState state) {
        await().atMost(Duration.ofSeconds(40)).until(() -> store().get(jobId).state().isTerminal());
        ExportJob job = store().get(jobId);
        assertThat(job.state()).as(job.lastError()).isEqualTo(state);
        return job;
    }

    List<RecordedRequest> kickoffs(String tenant) {
        return sandbox().requests().stream().filter(r -> r.path().startsWith("/r4/" + tenant + "/")
                && r.path().endsWith("$export")).toList();
    }

    @Test
    void aSecondKickoffOfTheSameClientAndTenantWaitsForTheFirstExport() {
        OracleHealthSandbox sandbox = sandbox();
        ExportJob first = producer.requestBody("direct:kickoff-source", "orab1", ExportJob.class);
        ExportJob second = producer.requestBody("direct:kickoff-source", "orab1", ExportJob.class);
        ExportJob again = producer.requestBody("direct:kickoff-source", "orab1", ExportJob.class);
        ExportJob other = producer.requestBody("direct:kickoff-source", "orab2", ExportJob.class);
        assertThat(first.statusUrl()).isNotNull();
        assertThat(second.statusUrl()).isNull();
        assertThat(second.lastError()).contains("one export per client and tenant").contains(first.id());
        assertThat(again.id()).as("one queued kick-off per source").isEqualTo(second.id());
        assertThat(other.statusUrl()).isNull();

        awaitEnd(first.id(), JobState.DELIVERED);
        ExportJob secondDone = awaitEnd(second.id(), JobState.DELIVERED);
        ExportJob otherDone = awaitEnd(other.id(), JobState.DELIVERED);

        List<RecordedRequest> kickoffs = kickoffs("tenant-b");
        assertThat(kickoffs).as("no kick-off while another export ran, so no 429").hasSize(3);
        RecordedRequest firstDelete = deleteOf(first.vendorJobId() == null ? store().get(first.id()).vendorJobId() : first.vendorJobId());
        RecordedRequest secondDelete = deleteOf(secondDone.vendorJobId());
        assertThat(kickoffs.get(1).at()).isAfterOrEqualTo(firstDelete.at());
        assertThat(kickoffs.get(2).at()).isAfterOrEqualTo(secondDelete.at());
        assertThat(kickoffs.get(2).query()).contains("Observation");
        assertThat(otherDone.vendorJobId()).isNotEqualTo(secondDone.vendorJobId());
    }

    /** POST /api/jobs on the relay's HTTP server; returns the body after checking the status. */
    String postJob(String json, int expectedStatus) throws Exception {
        int port = context.hasService(VertxPlatformHttpServer.class).getPort();
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/api/jobs")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(expectedStatus);
        return r.body();
    }

    RecordedRequest deleteOf(String vendorJobId) {
        return sandbox().requests().stream().filter(r -> r.method().equals("DELETE") && r.path().endsWith(vendorJobId))
                .findFirst().orElseThrow();
    }

    @Test
    void aThrottledKickoffIsSentAgainAfterRetryAfter() {
        OracleHealthSandbox sandbox = sandbox();
        sandbox.throttleRetryAfterSeconds(1);
        sandbox.throttleNextKickoffs(2);
        ExportJob job = producer.requestBody("direct:kickoff-source", "orac", ExportJob.class);
        assertThat(job.state()).isEqualTo(JobState.SUBMITTED);
        assertThat(job.statusUrl()).isNull();
        assertThat(job.lastError()).contains("throttled").contains("429");
        awaitEnd(job.id(), JobState.DELIVERED);
        List<RecordedRequest> kickoffs = kickoffs("tenant-c");
        assertThat(kickoffs).hasSize(3);
        for (int i = 1; i < kickoffs.size(); i++) {
            assertThat(Duration.between(kickoffs.get(i - 1).at(), kickoffs.get(i).at())).isGreaterThanOrEqualTo(Duration.ofMillis(950));
        }
        // each throttled kick-off is one fault line naming Oracle's answer: rate-limited, its code and opc-request-id
        List<String> lines = FAULT_LINES.list.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(l -> l.startsWith("job.fault job=" + job.id() + " ")).toList();
        assertThat(lines).hasSize(2).allSatisfy(l -> assertThat(l)
                .contains(" kind=oracle-health fault=rate-limited status=429 ").contains(" retryIn=1s "));
        assertThat(lines).extracting(l -> l.replaceAll(".* requestId=(\\S+) .*", "$1")).doesNotHaveDuplicates()
                .isSubsetOf(sandbox.requestIds());
        sandbox.throttleRetryAfterSeconds(0);
    }

    @Test
    void anExpiredPresignedLinkBringsAFreshManifestAndOnlyThatFileIsFetchedAgain() throws Exception {
        OracleHealthSandbox sandbox = sandbox();
        sandbox.expireNextLinks(1);
        ExportJob job = producer.requestBody("direct:kickoff-source", "orad", ExportJob.class);
        ExportJob done = awaitEnd(job.id(), JobState.DELIVERED);
        assertThat(done.attribute("linkRefreshes")).isEqualTo("1");
        long manifests = sandbox.requests().stream().filter(r -> r.method().equals("GET")
                && r.path().endsWith("/bulk-export/jobs/" + done.vendorJobId())).count();
        assertThat(manifests).as("2 polls in progress, the manifest, the fresh manifest").isEqualTo(4);
        List<String> jobFiles = sandbox.files(done.vendorJobId()).stream().map(OracleHealthSandbox.ExportFile::id).toList();
        List<RecordedRequest> s3 = sandbox.storageRequests().stream().filter(r -> r.path().contains(done.vendorJobId())).toList();
        assertThat(s3).hasSize(jobFiles.size() + 1);
        JsonNode receipt = new ObjectMapper().readTree(Path.of(OUT, "orad", job.id(), "receipt.json").toFile());
        assertThat(receipt.path("files")).hasSize(jobFiles.size());
        for (OracleHealthSandbox.ExportFile f : sandbox.files(done.vendorJobId())) {
            assertThat(s3.stream().filter(r -> r.path().endsWith(f.id())).count()).isBetween(1L, 2L);
            JsonNode listed = StreamSupport.stream(receipt.path("files").spliterator(), false)
                    .filter(n -> n.path("sourceUrl").asText().endsWith(f.id())).findFirst().orElseThrow();
            assertThat(Files.readAllBytes(Path.of(OUT).resolve(listed.path("key").asText()))).isEqualTo(f.content());
        }
    }

    @Test
    void aPatientExportIsPostedWithParametersUnderASignedJwt() throws Exception {
        OracleHealthSandbox sandbox = sandbox();
        sandbox.registerClient("relay-jwt", KEY.toPublicJWK());
        ExportJob job = producer.requestBody("direct:kickoff-source", "orae", ExportJob.class);
        ExportJob done = awaitEnd(job.id(), JobState.DELIVERED);
        RecordedRequest kickoff = kickoffs("tenant-e").get(0);
        assertThat(kickoff.method()).isEqualTo("POST");
        JsonNode body = new ObjectMapper().readTree(kickoff.body());
        assertThat(body.path("resourceType").asText()).isEqualTo("Parameters");
        assertThat(body.path("parameter").findValuesAsText("reference")).containsExactly("Patient/12724066", "Patient/12742400");
        RecordedRequest token = sandbox.requests().stream().filter(r -> r.path().startsWith("/tenants/tenant-e/")).findFirst().orElseThrow();
        assertThat(token.authorization()).isNull();
        assertThat(token.body()).contains("client_assertion=").contains("scope=system%2FPatient.read");
        assertThat(sandbox.requests()).anyMatch(r -> r.path().equals("/r4/tenant-e/metadata"));
        List<OracleHealthSandbox.ExportFile> files = sandbox.files(done.vendorJobId());
        assertThat(Files.readAllBytes(Path.of(OUT, "orae", job.id(), "Patient-1.ndjson"))).isEqualTo(files.get(0).content());
        assertThat(Files.readAllBytes(Path.of(OUT, "orae", job.id(), "Patient-2.ndjson"))).isEqualTo(files.get(1).content());
    }

    @Test
    void anAdoptedJobIdIsPolledAndDeliveredAndExpiredFilesEndExpired() throws Exception {
        OracleHealthSandbox sandbox = sandbox();
        String running = sandbox.startExport("relay-basic", "tenant-f", OracleHealthSandbox.GROUP_10,
                List.of("Patient", "Observation"), Duration.ofSeconds(1));
        String adopted = postJob("{\"source\":\"oraf\",\"jobId\":\"" + running + "\"}", 201);
        String jobId = new ObjectMapper().readTree(adopted).path("id").asText();
        ExportJob done = awaitEnd(jobId, JobState.DELIVERED);
        assertThat(done.vendorJobId()).isEqualTo(running);
        assertThat(done.statusUrl()).endsWith("/r4/tenant-f/bulk-export/jobs/" + running);
        assertThat(sandbox.isDeleted(running)).isTrue();
        // the same Job_ID again is the same job
        String twice = postJob("{\"source\":\"oraf\",\"jobId\":\"" + running + "\"}", 200);
        assertThat(new ObjectMapper().readTree(twice).path("id").asText()).isEqualTo(jobId);

        String old = sandbox.startExport("relay-basic", "tenant-f", OracleHealthSandbox.GROUP_3, List.of("Patient"),
                Duration.ZERO);
        sandbox.expireFiles(old);
        String adoptedOld = postJob("{\"source\":\"oraf\",\"jobId\":\"" + old + "\"}", 201);
        assertThat(postJob("{\"source\":\"oraf\",\"jobId\":\"../x\"}", 400)).contains("jobId");
        ExportJob expired = awaitEnd(new ObjectMapper().readTree(adoptedOld).path("id").asText(), JobState.EXPIRED);
        assertThat(expired.lastError()).contains("expired").contains("30 days");
        await().atMost(Duration.ofSeconds(10)).until(() -> sandbox.isDeleted(old));
        try (var notes = Files.walk(Path.of(OUT, "_notifications"))) {
            assertThat(notes.filter(p -> p.getFileName().toString().startsWith(expired.id() + "-EXPIRED"))).hasSize(1);
        }
    }

    /** Past its deadline the relay gives the export up, and deletes it: it would hold the client's one export. */
    @Test
    void anExportThatOutlivesTheDeadlineIsFailedAndDeletedAtOracle() throws Exception {
        OracleHealthSandbox sandbox = sandbox();
        String running = sandbox.startExport("relay-basic", "tenant-h", OracleHealthSandbox.GROUP_3, List.of("Patient"),
                Duration.ofMinutes(10));
        String adopted = postJob("{\"source\":\"orah\",\"jobId\":\"" + running + "\"}", 201);

        ExportJob failed = awaitEnd(new ObjectMapper().readTree(adopted).path("id").asText(), JobState.FAILED);

        assertThat(failed.lastError()).containsIgnoringCase("deadline");
        await().atMost(Duration.ofSeconds(10)).until(() -> sandbox.isDeleted(running));
    }

    /**
     * Oracle answers 403 to a file whose type the token has no read scope for: a fresh manifest would list the same
     * file, so the job fails at once with what is missing, instead of ending EXPIRED after three fresh manifests.
     */
    @Test
    void aFileTheTokensScopesDoNotCoverFailsTheJob() throws Exception {
        OracleHealthSandbox sandbox = sandbox();
        String running = sandbox.startExport("relay-basic", "tenant-i", OracleHealthSandbox.GROUP_3,
                List.of("Patient", "Observation"), Duration.ZERO);
        String adopted = postJob("{\"source\":\"orai\",\"jobId\":\"" + running + "\"}", 201);

        ExportJob failed = awaitEnd(new ObjectMapper().readTree(adopted).path("id").asText(), JobState.FAILED);

        assertThat(failed.lastError()).contains("answered 403").contains("may not read this file");
        assertThat(failed.attribute("linkRefreshes")).isNull();
    }

    @Test
    void aRefusedSystemAccountFailsTheKickoffJobOnceWithTheTokenEndpointsWords() throws Exception {
        OracleHealthSandbox sandbox = sandbox();
        ExportJob job = producer.requestBody("direct:kickoff-source", "orag", ExportJob.class);
        ExportJob failed = awaitEnd(job.id(), JobState.FAILED);
        assertThat(failed.lastError()).contains("answered 401").contains("invalid_client").doesNotContain("wrong");
        Thread.sleep(1000);
        assertThat(sandbox.requests().stream().filter(r -> r.path().startsWith("/tenants/tenant-g/"))).hasSize(1);
        assertThat(kickoffs("tenant-g")).isEmpty();
    }
}
