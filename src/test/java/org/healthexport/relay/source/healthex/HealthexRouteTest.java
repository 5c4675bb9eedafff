package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobFile;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.HealthexSandbox.LocationScript;
import org.healthexport.relay.sandbox.HealthexSandbox;
import org.healthexport.relay.sandbox.SandboxServer.RecordedRequest;
import org.healthexport.relay.sandbox.ScriptedFaults.Aim;
import org.healthexport.relay.sandbox.ScriptedFaults.Fault;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The healthex routes from the real YAML, end to end against the HealthEx sandbox, delivering to a folder: every
 * $updateData message and refusal, every status value, each location outcome, token expiry, paging, and the
 * delivered layout and bytes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:healthex-route;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/healthex-route",
        "relay.sandbox.enabled=true",
        "relay.poll.initial-wait=100ms",
        "relay.poll.min-wait=50ms",
        "relay.poll.max-wait=400ms",
        // the main source: patients from a JSON file, pages of 7 resources
        "relay.sources.hx.kind=healthex",
        "relay.sources.hx.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hx.project-id=prj-sandbox",
        "relay.sources.hx.org-id=org-1",
        "relay.sources.hx.auth.api-key=sandbox-api-key",
        "relay.sources.hx.auth.secret=sandbox-api-secret",
        "relay.sources.hx.patients-file=src/test/resources/healthex/patients.json",
        "relay.sources.hx.pull-after=1s",
        "relay.sources.hx.no-retrieval-timeout=3s",
        "relay.sources.hx.page-size=7",
        // skipInteractive=true, no patients file
        "relay.sources.hxskip.kind=healthex",
        "relay.sources.hxskip.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxskip.project-id=prj-sandbox",
        "relay.sources.hxskip.auth.api-key=sandbox-api-key",
        "relay.sources.hxskip.auth.secret=sandbox-api-secret",
        "relay.sources.hxskip.skip-interactive=true",
        "relay.sources.hxskip.pull-after=500ms",
        // projects HealthEx refuses
        "relay.sources.hxunknown.kind=healthex",
        "relay.sources.hxunknown.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxunknown.project-id=prj-unknown",
        "relay.sources.hxunknown.auth.api-key=sandbox-api-key",
        "relay.sources.hxunknown.auth.secret=sandbox-api-secret",
        "relay.sources.hxpaused.kind=healthex",
        "relay.sources.hxpaused.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxpaused.project-id=prj-paused",
        "relay.sources.hxpaused.auth.api-key=sandbox-api-key",
        "relay.sources.hxpaused.auth.secret=sandbox-api-secret",
        "relay.sources.hxinactive.kind=healthex",
        "relay.sources.hxinactive.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxinactive.project-id=prj-inactive",
        "relay.sources.hxinactive.auth.api-key=sandbox-api-key",
        "relay.sources.hxinactive.auth.secret=sandbox-api-secret",
        "relay.sources.hxnoaccess.kind=healthex",
        "relay.sources.hxnoaccess.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxnoaccess.project-id=prj-noaccess",
        "relay.sources.hxnoaccess.auth.api-key=sandbox-api-key",
        "relay.sources.hxnoaccess.auth.secret=sandbox-api-secret",
        // kicked off for every patient of a CSV file; its own path template
        "relay.sources.hxk.kind=healthex",
        "relay.sources.hxk.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxk.project-id=prj-sandbox",
        "relay.sources.hxk.org-id=org-k",
        "relay.sources.hxk.auth.api-key=sandbox-api-key",
        "relay.sources.hxk.auth.secret-file=src/test/resources/healthex/secrets/api-secret",
        "relay.sources.hxk.patients-file=src/test/resources/healthex/patients-kickoff.csv",
        "relay.sources.hxk.pull-after=500ms",
        "relay.sources.hxk.path=kicked/{orgId}/{externalId}/{retrievalId}"
})
class HealthexRouteTest {
    static final Path OUTBOX = Path.of("target/test-outbox/healthex-route");
    static final ObjectMapper JSON = new ObjectMapper();
    /** Every log event of the relay from before its start: no secret may show up in any. */
    static final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> LOG =
            new ch.qos.logback.core.read.ListAppender<>();

    static {
        // camel-main's startup summary (every property it was given) is at INFO: it must mask the secrets
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("org.apache.camel.main"))
                .setLevel(ch.qos.logback.classic.Level.INFO);
        LOG.start();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME))
                .addAppender(LOG);
    }

    @AfterAll
    void noSecretWasLogged() throws IOException {
        List<String> secrets = new ArrayList<>(List.of("sandbox-api-secret", "pw-renew"));
        JsonNode patients = JSON.readTree(Path.of("src/test/resources/healthex/patients.json").toFile());
        patients.path("patients").forEach(p -> {
            if (p.hasNonNull("password")) {
                secrets.add(p.path("password").asText());
            }
            if (p.hasNonNull("email")) {
                secrets.add(p.path("email").asText());
            }
        });
        assertThat(LOG.list).hasSizeGreaterThan(50);
        for (var event : List.copyOf(LOG.list)) {
            String text = event.getFormattedMessage() + (event.getThrowableProxy() == null ? ""
                    : event.getThrowableProxy().getMessage());
            for (String secret : secrets) {
                assertThat(text).as("log line").doesNotContain(secret);
            }
        }
    }

    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;

    HealthexSandbox sandbox;
    String apiBase;
    JobStore store;

    @BeforeEach
    void lookUp() {
        if (sandbox != null) {
            return;
        }
        sandbox = context.getRegistry().lookupByNameAndType("healthex-sandbox", HealthexSandbox.class);
        store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
        sandbox.patient("pat-happy").login("happy@patients.test", "pw-happy").records(30);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    ExportJob adopt(String source, String patientId) throws IOException {
        return adopt("{\"source\":\"" + source + "\",\"patientId\":\"" + patientId + "\"}");
    }

    /** {@code POST /api/jobs} on the relay's own HTTP server (the REST route, the jobs API, the adopter). */
    ExportJob adopt(String body) throws IOException {
        HttpResponse<String> answer = api("POST", "/api/jobs", body);
        assertThat(answer.statusCode()).as(answer.body()).isIn(200, 201);
        JsonNode view = JSON.readTree(answer.body());
        return store.get(view.path("id").asText());
    }

    HttpResponse<String> api(String method, String path, String body) throws IOException {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(apiBase() + path))
                    .header("Content-Type", "application/json")
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body));
            return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            throw new IOException(e);
        }
    }

    /** The relay's HTTP server listens on a random port (relay.http.port=0): the one that serves /api. */
    String apiBase() throws IOException, InterruptedException {
        if (apiBase == null) {
            for (VertxPlatformHttpServer server : context.hasServices(VertxPlatformHttpServer.class)) {
                String base = "http://127.0.0.1:" + server.getPort();
                int code = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/api/jobs"))
                        .GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                if (code == 200) {
                    apiBase = base;
                }
            }
        }
        assertThat(apiBase).as("the relay's API server").isNotNull();
        return apiBase;
    }

    ExportJob awaitEnd(ExportJob job) {
        await().atMost(Duration.ofSeconds(30)).until(() -> store.get(job.id()).state().isTerminal());
        return store.get(job.id());
    }

    /** The job's notifications, once it has any (they are written just after the state is stored). */
    List<JsonNode> notifications(String jobId) throws IOException {
        ExportJob job = store.get(jobId);
        // a DELIVERED job's notification (INCOMPLETE_RETRIEVAL) was written before its records were pulled
        if (job.state() != JobState.DELIVERED) {
            await().atMost(Duration.ofSeconds(5)).until(() -> !readNotifications(jobId).isEmpty());
        }
        return readNotifications(jobId);
    }

    List<JsonNode> readNotifications(String jobId) throws IOException {
        Path dir = OUTBOX.resolve("_notifications");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<JsonNode> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith(jobId)).sorted().toList()) {
                found.add(JSON.readTree(f.toFile()));
            }
        }
        return found;
    }

    List<RecordedRequest> requests(String pathPart) {
        return sandbox.requests().stream().filter(r -> r.path().contains(pathPart)).toList();
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    static Set<String> filesIn(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return new TreeSet<>(s.map(p -> p.getFileName().toString()).toList());
        }
    }

    /** The folder holds exactly the patient's records as NDJSON per type, status.json and a receipt listing them. */
    void assertDelivered(Path folder, HealthexSandbox.Patient patient, ExportJob job) throws Exception {
        Map<String, String> expected = patient.ndjson();
        Set<String> names = new TreeSet<>();
        expected.keySet().forEach(t -> names.add(t + ".ndjson"));
        names.add("status.json");
        names.add("receipt.json");
        assertThat(filesIn(folder)).isEqualTo(names);
        for (var e : expected.entrySet()) {
            assertThat(Files.readString(folder.resolve(e.getKey() + ".ndjson"), StandardCharsets.UTF_8))
                    .as(e.getKey()).isEqualTo(e.getValue());
        }
        JsonNode receipt = JSON.readTree(folder.resolve("receipt.json").toFile());
        assertThat(receipt.path("jobId").asText()).isEqualTo(job.id());
        assertThat(receipt.path("kind").asText()).isEqualTo("healthex");
        assertThat(receipt.path("files")).hasSize(expected.size() + 1);
        for (JsonNode f : receipt.path("files")) {
            byte[] bytes = Files.readAllBytes(OUTBOX.resolve(f.path("key").asText()));
            assertThat(f.path("bytes").asLong()).isEqualTo(bytes.length);
            assertThat(f.path("sha256").asText()).isEqualTo(sha256(bytes));
        }
        // receipt.json is written last
        long receiptTime = Files.getLastModifiedTime(folder.resolve("receipt.json")).toMillis();
        for (String name : names) {
            assertThat(Files.getLastModifiedTime(folder.resolve(name)).toMillis()).isLessThanOrEqualTo(receiptTime);
        }
    }

    // ---- tests ------------------------------------------------------------------------------------------------

    @Test
    void updateDataThenStatusThenPagedEverythingDeliveredAsNdjsonWithStatusAndReceipt() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-happy");
        ExportJob job = awaitEnd(adopt("hx", "pat-happy"));

        assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.DELIVERED);
        String retrieval = patient.retrievalIds().get(0);
        assertThat(job.attribute("retrievalId")).isEqualTo(retrieval);
        assertThat(job.vendorJobId()).isEqualTo(retrieval);
        assertThat(job.attribute("counts.changedExistingFacilities")).isEqualTo("2");
        Path folder = OUTBOX.resolve("healthex/prj-sandbox/pat-happy/" + retrieval);
        assertDelivered(folder, patient, job);

        JsonNode status = JSON.readTree(folder.resolve("status.json").toFile());
        assertThat(status.path("dataRetrievalStatus").path("dataRetrievalStatus").asText()).isEqualTo("COMPLETE");
        assertThat(status.path("report").path("locations")).hasSize(2);
        assertThat(status.path("report").path("locationsWithLostData")).isEmpty();
        assertThat(status.path("updateData").path("message").asText()).isEqualTo("IN_PROGRESS_NO_ACTION_NEEDED");
        assertThat(status.path("records").path("resources").path("Observation").asInt()).isEqualTo(30);
        assertThat(status.path("externalId").asText()).isEqualTo("study-0001");

        // researcher token for $updateData and $everything, the patient's token for the status
        List<RecordedRequest> updates = requests("/identified-patients/pat-happy/");
        assertThat(updates).hasSize(1);
        assertThat(sandbox.roleOf(updates.get(0).authorization())).isEqualTo(HealthexSandbox.RESEARCHER);
        assertThat(updates.get(0).body()).isEqualTo("{}");
        List<RecordedRequest> polls = sandbox.requests().stream()
                .filter(r -> r.path().endsWith("/data-retrieval/status") && r.authorization() != null
                        && "PATIENT".equals(sandbox.roleOf(r.authorization()))).toList();
        assertThat(polls).hasSizeGreaterThanOrEqualTo(4);
        List<RecordedRequest> pages = requests("/Person/pat-happy/$everything");
        assertThat(pages).hasSize((patient.resourceCount() + 6) / 7);
        assertThat(pages).allMatch(r -> HealthexSandbox.RESEARCHER.equals(sandbox.roleOf(r.authorization())));
        assertThat(pages.get(0).query()).isEqualTo("_count=7&_offset=0");
        assertThat(notifications(job.id())).isEmpty();
    }
    List<RecordedRequest> statusPollsOf(String patientId) {
        return sandbox.requests().stream().filter(r -> r.path().endsWith("/v1/patients/data-retrieval/status")
                && patientId.equals(sandbox.subjectOf(r.authorization()))).toList();
    }

    @Test
    void updateDataAnsweredWith200IsSuccessAndAFailedVectorizationIsReportedNotBlocking() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-200").login("p200@patients.test", "pw-200")
                .updateCode(200).vectorization("IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "FAILED");
        ExportJob job = awaitEnd(adopt("hx", "pat-200"));

        assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.DELIVERED);
        Path folder = OUTBOX.resolve("healthex/prj-sandbox/pat-200/" + patient.retrievalIds().get(0));
        assertDelivered(folder, patient, job);
        JsonNode report = JSON.readTree(folder.resolve("status.json").toFile()).path("report");
        assertThat(report.path("vectorizationFailed").asBoolean()).isTrue();
        assertThat(report.path("locationsWithLostData")).isEmpty();
        assertThat(job.progress()).contains("vectorization FAILED");
        List<JsonNode> notes = notifications(job.id());
        assertThat(notes).hasSize(1);
        assertThat(notes.get(0).path("state").asText()).isEqualTo("INCOMPLETE_RETRIEVAL");
        assertThat(notes.get(0).path("reason").asText()).contains("vectorization FAILED");
        assertThat(notes.get(0).path("ids").path("healthexPatientId").asText()).isEqualTo("pat-200");
    }

    @Test
    void everyPatientActionNeededReasonEndsActionNeededWithANotificationAndNoDelivery() throws Exception {
        for (String reason : HealthexSandbox.ACTION_REASONS) {
            String id = "pat-act-" + reason.toLowerCase().replace('_', '-');
            sandbox.patient(id).actionNeeded(reason);
            ExportJob job = awaitEnd(adopt("{\"source\":\"hx\",\"patientId\":\"" + id
                    + "\",\"externalId\":\"ext-" + reason + "\"}"));

            assertThat(job.state()).as(reason).isEqualTo(JobState.ACTION_NEEDED);
            assertThat(job.attribute("patientActionNeededReason")).isEqualTo(reason);
            assertThat(job.lastError()).contains("PATIENT_ACTION_NEEDED").contains(reason);
            List<JsonNode> notes = notifications(job.id());
            assertThat(notes).as(reason).hasSize(1);
            JsonNode note = notes.get(0);
            assertThat(note.path("state").asText()).isEqualTo("ACTION_NEEDED");
            assertThat(note.path("source").asText()).isEqualTo("hx");
            assertThat(note.path("ids").path("healthexPatientId").asText()).isEqualTo(id);
            assertThat(note.path("ids").path("externalId").asText()).isEqualTo("ext-" + reason);
            assertThat(note.path("ids").path("projectId").asText()).isEqualTo("prj-sandbox");
            assertThat(note.path("reason").asText()).contains(reason);
            assertThat(note.path("suggestedAction").asText()).contains("same HealthEx link").contains(id);
            // no delivery: nothing pulled, nothing written
            assertThat(requests("/Person/" + id + "/")).isEmpty();
            assertThat(OUTBOX.resolve("healthex/prj-sandbox/" + id)).doesNotExist();
            assertThat(store.files(job.id())).isEmpty();
        }
    }

    @Test
    void skipInteractiveSkipsInteractiveReasonsButNotConsentOnes() throws Exception {
        HealthexSandbox.Patient auth = sandbox.patient("pat-skip-auth").actionNeeded("AUTHENTICATION_EXPIRED");
        sandbox.patient("pat-skip-consent").actionNeeded("CONSENT_REVOKED");
        sandbox.patient("pat-skip-off").actionNeeded("AUTHENTICATION_NEEDED_NEW_FACILITY");

        ExportJob skipped = awaitEnd(adopt("hxskip", "pat-skip-auth"));
        ExportJob consent = awaitEnd(adopt("hxskip", "pat-skip-consent"));
        // a request may say otherwise than its source
        ExportJob off = awaitEnd(adopt("{\"source\":\"hxskip\",\"patientId\":\"pat-skip-off\","
                + "\"skipInteractive\":false}"));

        assertThat(skipped.state()).as(skipped.lastError()).isEqualTo(JobState.DELIVERED);
        assertThat(skipped.attribute("skippedFacilitiesCount")).isEqualTo("1");
        assertDelivered(OUTBOX.resolve("healthex/prj-sandbox/pat-skip-auth/" + auth.retrievalIds().get(0)), auth,
                skipped);
        assertThat(consent.state()).isEqualTo(JobState.ACTION_NEEDED);
        assertThat(consent.attribute("patientActionNeededReason")).isEqualTo("CONSENT_REVOKED");
        assertThat(off.state()).isEqualTo(JobState.ACTION_NEEDED);
        assertThat(requests("/identified-patients/pat-skip-auth/").get(0).body())
                .isEqualTo("{\"skipInteractive\":true}");
        assertThat(requests("/identified-patients/pat-skip-off/").get(0).body())
                .isEqualTo("{\"skipInteractive\":false}");
    }

    @Test
    void unknownProjectOrPatientForbiddenPausedAndInactiveStudiesFailWithTheirReason() throws Exception {
        sandbox.project("prj-paused", HealthexSandbox.ProjectState.PAUSED)
                .project("prj-inactive", HealthexSandbox.ProjectState.INACTIVE)
                .project("prj-noaccess", HealthexSandbox.ProjectState.NO_ACCESS);
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("hxunknown", "does not know project prj-unknown");
        expected.put("hx", "does not know project prj-sandbox or patient pat-ghost");
        expected.put("hxnoaccess", "does not allow this API client");
        expected.put("hxpaused", "is paused or not active");
        expected.put("hxinactive", "is paused or not active");
        for (var e : expected.entrySet()) {
            String patient = e.getKey().equals("hx") ? "pat-ghost" : "pat-happy";
            ExportJob job = awaitEnd(adopt(e.getKey(), patient));
            assertThat(job.state()).as(e.getKey()).isEqualTo(JobState.FAILED);
            assertThat(job.lastError()).as(e.getKey()).contains(e.getValue());
            List<JsonNode> notes = notifications(job.id());
            assertThat(notes).as(e.getKey()).hasSize(1);
            assertThat(notes.get(0).path("state").asText()).isEqualTo("FAILED");
            assertThat(notes.get(0).path("reason").asText()).contains(e.getValue());
            assertThat(notes.get(0).path("suggestedAction").asText()).isNotBlank();
        }
        ExportJob paused = store.list(JobState.FAILED, 100).stream().filter(j -> j.sourceId().equals("hxpaused"))
                .findFirst().orElseThrow();
        assertThat(paused.lastError()).contains("HTTP 400").contains("Study is paused");
    }

    @Test
    void eachLocationOutcomeIsReportedAndTheRecordsAreDeliveredAnyway() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-lost").login("lost@patients.test", "pw-lost")
                .locations(
                        new LocationScript("loc-ok", "General Hospital", "TEFCA_DOCUMENT",
                                List.of("NOT_STARTED", "IN_PROGRESS", "COMPLETE"), 5),
                        new LocationScript("loc-partial", "Downtown Clinic", "USER_SELECTED",
                                List.of("NOT_STARTED", "IN_PROGRESS", "PARTIAL_COMPLETE"), 2),
                        new LocationScript("loc-skipped", "Lakeside Pediatrics", "TEFCA_ENDPOINT",
                                List.of("NOT_STARTED", "SKIPPED"), 0),
                        new LocationScript("loc-error", "North Lab", "TEFCA_DOCUMENT",
                                List.of("IN_PROGRESS", "IN_PROGRESS", "ERROR"), 0),
                        new LocationScript("loc-stuck", "Old Records Office", "USER_SELECTED",
                                List.of("NOT_STARTED", "NOT_STARTED", "IN_PROGRESS"), 0),
                        new LocationScript("loc-odd", null, "USER_SELECTED",
                                List.of("NOT_STARTED", "CANCELLED"), 0))
                .vectorization("IN_PROGRESS", "IN_PROGRESS", "FAILED");
        ExportJob job = awaitEnd(adopt("hx", "pat-lost"));

        assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.DELIVERED);
        Path folder = OUTBOX.resolve("healthex/prj-sandbox/pat-lost/" + patient.retrievalIds().get(0));
        assertDelivered(folder, patient, job);
        JsonNode report = JSON.readTree(folder.resolve("status.json").toFile()).path("report");
        Map<String, String> outcomes = new HashMap<>();
        report.path("locations").forEach(l -> outcomes.put(l.path("locationId").asText(), l.path("outcome").asText()));
        assertThat(outcomes).containsEntry("loc-ok", "retrieved").containsEntry("loc-partial", "lost")
                .containsEntry("loc-skipped", "lost").containsEntry("loc-error", "lost")
                .containsEntry("loc-stuck", "lost").containsEntry("loc-odd", "unknown");
        assertThat(report.path("locationsWithLostData")).extracting(JsonNode::asText)
                .containsExactlyInAnyOrder("loc-partial", "loc-skipped", "loc-error", "loc-stuck", "loc-odd");
        assertThat(report.path("vectorizationFailed").asBoolean()).isTrue();
        assertThat(job.progress()).contains("loc-error ERROR").contains("loc-partial PARTIAL_COMPLETE");
        assertThat(job.attribute("locationsWithLostData")).contains("loc-skipped");

        List<JsonNode> notes = notifications(job.id());
        assertThat(notes).hasSize(1);
        JsonNode note = notes.get(0);
        assertThat(note.path("state").asText()).isEqualTo("INCOMPLETE_RETRIEVAL");
        assertThat(note.path("reason").asText()).contains("loc-partial PARTIAL_COMPLETE", "loc-skipped SKIPPED",
                "loc-error ERROR", "loc-stuck IN_PROGRESS", "loc-odd CANCELLED", "vectorization FAILED");
        assertThat(note.path("ids").path("retrievalId").asText()).isEqualTo(patient.retrievalIds().get(0));
        // ids only: no location names (where the patient was treated) in a notification
        assertThat(note.toString()).doesNotContain("Hospital", "Clinic", "Pediatrics");
        // the route saw the locations move: the first polls were IN_PROGRESS
        assertThat(statusPollsOf("pat-lost")).hasSizeGreaterThanOrEqualTo(3);
    }

    @Test
    void noRetrievalYetIsWaitedForThenDelivered() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-late").login("late@patients.test", "pw-late")
                .hiddenPolls(3);
        ExportJob job = awaitEnd(adopt("hx", "pat-late"));

        assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.DELIVERED);
        assertThat(statusPollsOf("pat-late")).hasSizeGreaterThanOrEqualTo(3 + 4);
        assertThat(job.attribute("noRetrievalSince")).isNull();
        assertDelivered(OUTBOX.resolve("healthex/prj-sandbox/pat-late/" + patient.retrievalIds().get(0)), patient,
                job);
    }

    @Test
    void noRetrievalWithinTheTimeoutFails() throws Exception {
        sandbox.patient("pat-never").login("never@patients.test", "pw-never").hiddenPolls(100_000);
        ExportJob job = awaitEnd(adopt("hx", "pat-never"));

        assertThat(job.state()).isEqualTo(JobState.FAILED);
        assertThat(job.lastError()).contains("No data retrieval of patient pat-never appeared within PT3S");
        assertThat(Duration.between(job.createdAt(), job.updatedAt())).isGreaterThanOrEqualTo(Duration.ofSeconds(3));
        assertThat(notifications(job.id())).extracting(n -> n.path("state").asText()).containsExactly("FAILED");
        assertThat(requests("/Person/pat-never/")).isEmpty();
    }

    @Test
    void expiredResearcherAndPatientTokensAreRenewedOnce() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-renew").login("renew@patients.test", "pw-renew")
                .locations(new LocationScript("loc-a", "A", "TEFCA_DOCUMENT",
                        List.of("NOT_STARTED", "IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS",
                                "COMPLETE"), 1));
        sandbox.expireTokens(HealthexSandbox.RESEARCHER);
        sandbox.faults().queue(Aim.FILE, Fault.operationOutcome(401, "processing", "Injected fault"));
        ExportJob started = adopt("hx", "pat-renew");
        await().atMost(Duration.ofSeconds(20)).until(() -> statusPollsOf("pat-renew").size() >= 2);
        sandbox.expireTokens(HealthexSandbox.PATIENT);
        ExportJob job = awaitEnd(started);

        assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.DELIVERED);
        assertDelivered(OUTBOX.resolve("healthex/prj-sandbox/pat-renew/" + patient.retrievalIds().get(0)), patient,
                job);
        // $updateData: refused with the expired token, accepted with a new one
        List<RecordedRequest> updates = requests("/identified-patients/pat-renew/");
        assertThat(updates).hasSize(2);
        assertThat(updates.get(0).authorization()).isNotEqualTo(updates.get(1).authorization());
        // status: the patient logged in again (its password from a file) and went on polling
        Set<String> patientTokens = new LinkedHashSet<>();
        statusPollsOf("pat-renew").forEach(r -> patientTokens.add(r.authorization()));
        assertThat(patientTokens).hasSize(2);
        // $everything: the first page was refused once (401) and asked again with a new token
        List<RecordedRequest> pages = requests("/Person/pat-renew/$everything");
        assertThat(pages.get(0).query()).isEqualTo(pages.get(1).query());
        assertThat(pages.get(0).authorization()).isNotEqualTo(pages.get(1).authorization());
    }

    @Test
    void aRenewedResearcherTokenDoesNotUseUpThePatientTokensRenewal() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-twice").login("twice@patients.test", "pw-twice");
        assertThat(awaitEnd(adopt("hx", "pat-twice")).state()).isEqualTo(JobState.DELIVERED);
        // both cached tokens expire: $updateData answers 401 once, then the first status poll answers 401 once
        sandbox.expireTokens();
        ExportJob job = awaitEnd(adopt("hx", "pat-twice"));

        assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.DELIVERED);
        assertThat(requests("/identified-patients/pat-twice/")).hasSize(3);
        assertDelivered(OUTBOX.resolve("healthex/prj-sandbox/pat-twice/" + patient.retrievalIds().get(1)), patient,
                job);
    }


    @Test
    void undocumentedMessagesAndStatusesAreKeptFlaggedAndPolledNeverTakenAsDone() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-odd").login("odd@patients.test", "pw-odd")
                .undocumentedMessage("IN_PROGRESS_MAYBE");
        ExportJob job = adopt("hx", "pat-odd");
        await().atMost(Duration.ofSeconds(20)).until(() -> requests("/identified-patients/pat-odd/").size() >= 2);
        ExportJob flagged = store.get(job.id());
        assertThat(flagged.state()).isEqualTo(JobState.SUBMITTED);
        assertThat(flagged.attribute("unknownStatus")).isEqualTo("IN_PROGRESS_MAYBE");
        assertThat(statusPollsOf("pat-odd")).isEmpty();

        patient.undocumentedMessage(null).undocumentedStatus("ON_HOLD");
        await().atMost(Duration.ofSeconds(20)).until(() -> statusPollsOf("pat-odd").size() >= 2
                && "ON_HOLD".equals(store.get(job.id()).attribute("unknownStatus")));
        assertThat(store.get(job.id()).state()).isEqualTo(JobState.RUNNING);
        assertThat(requests("/Person/pat-odd/")).isEmpty();

        patient.undocumentedStatus(null);
        ExportJob done = awaitEnd(job);
        assertThat(done.state()).as(done.lastError()).isEqualTo(JobState.DELIVERED);
        assertThat(done.attribute("unknownStatus")).isNull();
        assertDelivered(OUTBOX.resolve("healthex/prj-sandbox/pat-odd/" + patient.retrievalIds().get(0)), patient,
                done);
    }

    @Test
    void aLoginThatGivesNoPatientTokenFailsWithAClearReason() throws Exception {
        sandbox.researcherLogin("researcher@org.test", "pw-researcher");
        sandbox.patient("pat-researcher");
        ExportJob job = awaitEnd(adopt("hx", "pat-researcher"));

        assertThat(job.state()).isEqualTo(JobState.FAILED);
        assertThat(job.lastError()).contains("403").contains("not give a patient token");
        assertThat(notifications(job.id())).hasSize(1);
    }

    @Test
    void aReadOnlyPatientTokenWatchesTheStatusToo() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-readonly")
                .readOnlyLogin("readonly@patients.test", "pw-readonly");
        ExportJob job = awaitEnd(adopt("hx", "pat-readonly"));

        assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.DELIVERED);
        assertThat(statusPollsOf("pat-readonly")).allMatch(r -> "PATIENT_READ_ONLY".equals(sandbox.roleOf(r.authorization())));
        assertDelivered(OUTBOX.resolve("healthex/prj-sandbox/pat-readonly/" + patient.retrievalIds().get(0)),
                patient, job);
    }

    @Test
    void pagesWithoutNextLinksAreReadThroughOffsets() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-nolinks").login("nolinks@patients.test", "pw-nolinks")
                .nextLinks(false).records(25);
        ExportJob job = awaitEnd(adopt("hx", "pat-nolinks"));

        assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.DELIVERED);
        int total = patient.resourceCount();
        List<String> queries = requests("/Person/pat-nolinks/$everything").stream().map(RecordedRequest::query).toList();
        List<String> expected = new ArrayList<>();
        for (int offset = 0; offset < total; offset += 7) {
            expected.add(offset == 0 ? "_count=7&_offset=0" : "_count=7&_offset=" + offset);
        }
        assertThat(queries).isEqualTo(expected);
        assertDelivered(OUTBOX.resolve("healthex/prj-sandbox/pat-nolinks/" + patient.retrievalIds().get(0)),
                patient, job);
    }

    @Test
    void aNewRetrievalIsANewFolderAndTheSameRetrievalNeverOverwritesAnEarlierDelivery() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-again").login("again@patients.test", "pw-again");
        ExportJob first = awaitEnd(adopt("hx", "pat-again"));
        ExportJob second = awaitEnd(adopt("hx", "pat-again"));

        assertThat(second.id()).isNotEqualTo(first.id());
        assertThat(first.state()).isEqualTo(JobState.DELIVERED);
        assertThat(second.state()).isEqualTo(JobState.DELIVERED);
        List<String> retrievals = patient.retrievalIds();
        assertThat(retrievals).hasSize(2).doesNotHaveDuplicates();
        Path firstFolder = OUTBOX.resolve("healthex/prj-sandbox/pat-again/" + retrievals.get(0));
        Path secondFolder = OUTBOX.resolve("healthex/prj-sandbox/pat-again/" + retrievals.get(1));
        assertDelivered(firstFolder, patient, first);
        assertDelivered(secondFolder, patient, second);
        byte[] firstReceipt = Files.readAllBytes(firstFolder.resolve("receipt.json"));
        byte[] secondReceipt = Files.readAllBytes(secondFolder.resolve("receipt.json"));

        // the latest retrieval adopted (no $updateData): delivered beside the earlier delivery, never over it;
        // adopting it twice is one job
        String body = "{\"source\":\"hx\",\"patientId\":\"pat-again\",\"retrievalId\":\"" + retrievals.get(1)
                + "\"}";
        ExportJob again = adopt(body);
        assertThat(api("POST", "/api/jobs", body).statusCode()).isEqualTo(200);
        assertThat(adopt(body).id()).isEqualTo(again.id());
        again = awaitEnd(again);
        assertThat(again.state()).as(again.lastError()).isEqualTo(JobState.DELIVERED);
        assertThat(requests("/identified-patients/pat-again/")).hasSize(2);
        Path beside = OUTBOX.resolve("healthex/prj-sandbox/pat-again/" + retrievals.get(1) + "-"
                + again.id().substring(0, 8));
        assertDelivered(beside, patient, again);
        assertThat(Files.readAllBytes(firstFolder.resolve("receipt.json"))).isEqualTo(firstReceipt);
        assertThat(Files.readAllBytes(secondFolder.resolve("receipt.json"))).isEqualTo(secondReceipt);
        assertThat(JSON.readTree(beside.resolve("status.json").toFile()).path("updateData")
                .path("adoptedRetrievalId").asText()).isEqualTo(retrievals.get(1));
    }

    @Test
    void aStatusStillShowingTheEarlierRetrievalIsWaitedThrough() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-older").login("older@patients.test", "pw-older");
        ExportJob first = awaitEnd(adopt("hx", "pat-older"));
        assertThat(first.state()).isEqualTo(JobState.DELIVERED);
        Thread.sleep(50);
        patient.hiddenPolls(3);
        ExportJob second = awaitEnd(adopt("hx", "pat-older"));

        assertThat(second.state()).as(second.lastError()).isEqualTo(JobState.DELIVERED);
        String newer = patient.retrievalIds().get(1);
        assertThat(second.attribute("retrievalId")).isEqualTo(newer);
        Path folder = OUTBOX.resolve("healthex/prj-sandbox/pat-older/" + newer);
        assertDelivered(folder, patient, second);
        assertThat(JSON.readTree(folder.resolve("status.json").toFile()).path("dataRetrievalStatus")
                .path("retrievalId").asText()).isEqualTo(newer);
    }

    @Test
    void withoutAPatientLoginTheRecordsArePulledAfterPullAfter() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-nologin");
        ExportJob job = awaitEnd(adopt("hx", "pat-nologin"));

        assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.DELIVERED);
        RecordedRequest update = requests("/identified-patients/pat-nologin/").get(0);
        RecordedRequest firstPage = requests("/Person/pat-nologin/$everything").get(0);
        assertThat(Duration.between(update.at(), firstPage.at())).isGreaterThanOrEqualTo(Duration.ofMillis(950));
        assertThat(statusPollsOf("pat-nologin")).isEmpty();
        Path folder = OUTBOX.resolve("healthex/prj-sandbox/pat-nologin/" + patient.retrievalIds().get(0));
        assertDelivered(folder, patient, job);
        JsonNode status = JSON.readTree(folder.resolve("status.json").toFile());
        assertThat(status.path("statusWatched").asBoolean()).isFalse();
        assertThat(status.path("updateData").path("counts").path("unchangedExistingFacilities").asInt()).isEqualTo(3);
    }

    @Test
    void anAnswerWithoutRetrievalIdTakesTheRetrievalOfTheStatus() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-omit").login("omit@patients.test", "pw-omit")
                .omitRetrievalId(true);
        ExportJob job = awaitEnd(adopt("hx", "pat-omit"));

        assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.DELIVERED);
        assertThat(job.attribute("retrievalId")).isEqualTo(patient.retrievalIds().get(0));
        assertDelivered(OUTBOX.resolve("healthex/prj-sandbox/pat-omit/" + patient.retrievalIds().get(0)), patient,
                job);
    }

    @Test
    void requestsForOnePatientThatArriveTogetherMakeOneJob() throws Exception {
        // two requests that both pass the in-flight check before either job is stored ask for the same job
        HealthexJobs adopter = context.getRegistry().lookupByNameAndType("healthexJobs", HealthexJobs.class);
        SourceConfig config = context.getRegistry().lookupByNameAndType("sources", Sources.class).get("hx");
        assertThat(adopter.adopt(config, Map.of("patientId", "pat-race")).dedupKey())
                .isEqualTo(adopter.adopt(config, Map.of("patientId", "pat-race")).dedupKey());

        sandbox.patient("pat-race").login("race@patients.test", "pw-race");
        String body = "{\"source\":\"hx\",\"patientId\":\"pat-race\"}";
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                answers.add(callers.submit(() -> api("POST", "/api/jobs", body)));
            }
            Set<String> ids = new HashSet<>();
            for (Future<HttpResponse<String>> answer : answers) {
                HttpResponse<String> r = answer.get(30, TimeUnit.SECONDS);
                assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
                ids.add(JSON.readTree(r.body()).path("id").asText());
            }
            assertThat(ids).hasSize(1);
            ExportJob job = awaitEnd(store.get(ids.iterator().next()));
            assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.DELIVERED);
            // once that job has ended, the patient's next request is a new job
            ExportJob next = adopt("hx", "pat-race");
            assertThat(next.id()).isNotEqualTo(job.id());
            awaitEnd(next);
        } finally {
            callers.shutdownNow();
        }
    }

    /** HealthEx's error body (NestJS): {statusCode, message, error}. */
    static Fault injected(int code) {
        return Fault.json(code, "{\"statusCode\":" + code + ",\"message\":\"Injected fault\",\"error\":\"Error\"}");
    }

    @Test
    void transientFaultsAreRetriedAndAJobInFlightIsNotTriggeredTwice() throws Exception {
        HealthexSandbox.Patient patient = sandbox.patient("pat-fault").login("fault@patients.test", "pw-fault");
        sandbox.faults().queue(Aim.KICKOFF, injected(503));
        sandbox.faults().queue(Aim.STATUS, injected(500));
        sandbox.faults().queue(Aim.FILE, Fault.operationOutcome(429, "processing", "Injected fault"));
        ExportJob job = adopt("hx", "pat-fault");
        HttpResponse<String> again = api("POST", "/api/jobs", "{\"source\":\"hx\",\"patientId\":\"pat-fault\"}");
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(again.body()).path("id").asText()).isEqualTo(job.id());
        job = awaitEnd(job);

        assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.DELIVERED);
        assertThat(requests("/identified-patients/pat-fault/")).hasSize(2);
        assertThat(patient.retrievalIds()).hasSize(1);
        assertDelivered(OUTBOX.resolve("healthex/prj-sandbox/pat-fault/" + patient.retrievalIds().get(0)), patient,
                job);
        assertThat(api("POST", "/api/jobs", "{\"source\":\"hx\"}").statusCode()).isEqualTo(400);
        assertThat(api("POST", "/api/jobs", "{\"source\":\"hx\",\"patientId\":\"../x\"}").statusCode())
                .isEqualTo(400);
    }

    @Test
    void aKickOffCreatesOneJobPerConfiguredPatientAndSkipsPatientsInFlight() throws Exception {
        HealthexSandbox.Patient withLogin = sandbox.patient("pat-kick-1").login("kick1@patients.test", "pw-kick-1");
        HealthexSandbox.Patient without = sandbox.patient("pat-kick-2");
        HttpResponse<String> run = api("POST", "/api/sources/hxk/run", null);
        assertThat(run.statusCode()).as(run.body()).isEqualTo(202);
        JsonNode summary = JSON.readTree(run.body());
        assertThat(summary.path("created")).hasSize(2);
        JsonNode second = JSON.readTree(api("POST", "/api/sources/hxk/run", null).body());
        assertThat(second.path("created")).isEmpty();
        assertThat(second.path("alreadyActive")).hasSize(2);

        for (JsonNode created : summary.path("created")) {
            ExportJob job = awaitEnd(store.get(created.path("job").asText()));
            assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.DELIVERED);
        }
        assertThat(statusPollsOf("pat-kick-1")).isNotEmpty();
        assertThat(statusPollsOf("pat-kick-2")).isEmpty();
        ExportJob k1 = store.get(summary.path("created").get(0).path("job").asText());
        assertDelivered(OUTBOX.resolve("kicked/org-k/study-k1/" + withLogin.retrievalIds().get(0)), withLogin,
                store.get(k1.attribute("healthexPatientId").equals("pat-kick-1") ? k1.id()
                        : summary.path("created").get(1).path("job").asText()));
        assertThat(OUTBOX.resolve("kicked/org-k/study-k2/" + without.retrievalIds().get(0)).resolve("receipt.json"))
                .exists();
    }
}
