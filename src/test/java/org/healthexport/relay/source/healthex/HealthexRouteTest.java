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
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobFile;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.HealthexSandbox;
import org.healthexport.relay.sandbox.HealthexSandbox.LocationScript;
import org.healthexport.relay.sandbox.SandboxServer.RecordedRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

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
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
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
        "relay.poll.interval=100",
        "relay.poll.initial-wait=100ms",
        "relay.poll.min-wait=50ms",
        "relay.poll.max-wait=400ms",
        // the main source: patients from a JSON file, pages of 7 resources
        "relay.sources.hx.kind=healthex",
        "relay.sources.hx.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hx.project-id=prj-sandbox",
        "relay.sources.hx.org-id=org-1",
        "relay.sources.hx.auth.api-key=sandbox-api-key",
        "relay.sources.hx.auth.api-secret=sandbox-api-secret",
        "relay.sources.hx.patients-file=src/test/resources/healthex/patients.json",
        "relay.sources.hx.pull-after=1s",
        "relay.sources.hx.no-retrieval-timeout=3s",
        "relay.sources.hx.page-size=7",
        // skipInteractive=true, no patients file
        "relay.sources.hxskip.kind=healthex",
        "relay.sources.hxskip.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxskip.project-id=prj-sandbox",
        "relay.sources.hxskip.auth.api-key=sandbox-api-key",
        "relay.sources.hxskip.auth.api-secret=sandbox-api-secret",
        "relay.sources.hxskip.skip-interactive=true",
        "relay.sources.hxskip.pull-after=500ms",
        // projects HealthEx refuses
        "relay.sources.hxunknown.kind=healthex",
        "relay.sources.hxunknown.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxunknown.project-id=prj-unknown",
        "relay.sources.hxunknown.auth.api-key=sandbox-api-key",
        "relay.sources.hxunknown.auth.api-secret=sandbox-api-secret",
        "relay.sources.hxpaused.kind=healthex",
        "relay.sources.hxpaused.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxpaused.project-id=prj-paused",
        "relay.sources.hxpaused.auth.api-key=sandbox-api-key",
        "relay.sources.hxpaused.auth.api-secret=sandbox-api-secret",
        "relay.sources.hxinactive.kind=healthex",
        "relay.sources.hxinactive.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxinactive.project-id=prj-inactive",
        "relay.sources.hxinactive.auth.api-key=sandbox-api-key",
        "relay.sources.hxinactive.auth.api-secret=sandbox-api-secret",
        "relay.sources.hxnoaccess.kind=healthex",
        "relay.sources.hxnoaccess.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxnoaccess.project-id=prj-noaccess",
        "relay.sources.hxnoaccess.auth.api-key=sandbox-api-key",
        "relay.sources.hxnoaccess.auth.api-secret=sandbox-api-secret",
        // kicked off for every patient of a CSV file; its own path template
        "relay.sources.hxk.kind=healthex",
        "relay.sources.hxk.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxk.project-id=prj-sandbox",
        "relay.sources.hxk.org-id=org-k",
        "relay.sources.hxk.auth.api-key=sandbox-api-key",
        "relay.sources.hxk.auth.api-secret-file=src/test/resources/healthex/secrets/api-secret",
        "relay.sources.hxk.patients-file=src/test/resources/healthex/patients-kickoff.csv",
        "relay.sources.hxk.pull-after=500ms",
        "relay.sources.hxk.path=kicked/{orgId}/{externalId}/{retrievalId}"
})
class HealthexRouteTest {
    static final Path OUTBOX = Path.of("target/test-outbox/healthex-route");
    static final ObjectMapper JSON = new ObjectMapper();

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

    List<JsonNode> notifications(String jobId) throws IOException {
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
}
