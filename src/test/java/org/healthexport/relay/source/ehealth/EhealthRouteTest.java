package org.healthexport.relay.source.ehealth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.camel.util.FileUtil;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.EhealthSandbox;
import org.healthexport.relay.sandbox.EhealthSandbox.Fault;
import org.healthexport.relay.sandbox.SandboxServer.RecordedRequest;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.TestInstance;

import java.io.File;
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
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The ehealth-jobs routes from the real YAML, end to end against the eHealth sandbox: every branch of the
 * status route (pending, 303 with links, 200 with response_data, failed, 404, 401, 429/5xx, malformed and
 * unknown answers), the token renewal, the inbox, and what the relay asked the sandbox for.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:ehealth-route;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/ehealth-route",
        "relay.sandbox.enabled=true",
        "relay.sandbox.ehealth-jobs.tokens=sandbox-token",
        "relay.sandbox.ehealth-jobs.api-key=sandbox-api-key",
        "relay.sandbox.ehealth-jobs.client-id=mis-client",
        "relay.sandbox.ehealth-jobs.client-secret=mis-secret",
        "relay.sandbox.ehealth-jobs.refresh-token=mis-refresh",
        "relay.sources.ehr.kind=ehealth-jobs",
        "relay.sources.ehr.base-url={{relay.sandbox.ehealth-jobs.url}}",
        "relay.sources.ehr.auth.token=sandbox-token",
        "relay.sources.ehr.auth.api-key=sandbox-api-key",
        "relay.sources.ehr.inbox-dir=" + EhealthRouteTest.INBOX,
        "relay.sources.ehr.inbox-interval=300ms",
        "relay.sources.ehr-refresh.kind=ehealth-jobs",
        "relay.sources.ehr-refresh.base-url={{relay.sandbox.ehealth-jobs.url}}",
        "relay.sources.ehr-refresh.auth.token=expired-token",
        "relay.sources.ehr-refresh.auth.refresh-token=mis-refresh",
        "relay.sources.ehr-refresh.auth.client-id=mis-client",
        "relay.sources.ehr-refresh.auth.client-secret=mis-secret",
        "relay.sources.ehr-refresh.api-key=sandbox-api-key",
        "relay.sources.ehr-bad.kind=ehealth-jobs",
        "relay.sources.ehr-bad.base-url={{relay.sandbox.ehealth-jobs.url}}",
        "relay.sources.ehr-bad.auth.token=wrong-token",
        "relay.sources.ehr-bad.auth.api-key=sandbox-api-key",
        "relay.poll.initial-wait=500ms",
        "relay.poll.min-wait=200ms",
        "relay.poll.max-wait=3s"
})
class EhealthRouteTest {
    static final String OUTBOX = "target/test-outbox/ehealth-route";
    static final String INBOX = "target/test-inbox/ehealth-route";
    static final Duration WAIT = Duration.ofSeconds(30);

    static {
        // a clean target and inbox for every run (before the relay starts)
        for (String dir : List.of(OUTBOX, INBOX)) {
            FileUtil.removeDir(new File(dir));
        }
    }

    @BeanInject
    CamelContext context;

    EhealthSandbox sandbox() {
        return context.getRegistry().lookupByNameAndType("ehealth-jobs-sandbox", EhealthSandbox.class);
    }

    JobStore store() {
        return context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
    }

    // ---- 303 with links ------------------------------------------------------------------------------

    @Test
    void processedJobDeliversEveryLinkedEntityByteForByteWithoutFollowingTheRedirect() throws Exception {
        EhealthSandbox sandbox = sandbox();
        String jobId = sandbox.processedWithLinks(2, 1);
        Adopted adopted = adopt("ehr", jobId);
        assertThat(adopted.code()).isEqualTo(201);

        ExportJob job = awaitState(adopted.id(), JobState.DELIVERED);
        Path folder = Path.of(OUTBOX, "ehealth", jobId);
        List<String> expectedPaths = new ArrayList<>();
        for (EhealthSandbox.Link link : sandbox.links(jobId)) {
            String path = path(link.href());
            expectedPaths.add(path);
            Path file = folder.resolve(link.entity()).resolve(path.substring(path.lastIndexOf('/') + 1) + ".json");
            assertThat(file).as(link.entity()).exists();
            assertThat(Files.readAllBytes(file)).as(link.entity()).isEqualTo(sandbox.entity(path));
        }
        // the docs' misspelled entity name is kept as it is
        assertThat(folder.resolve("medication_statemet")).isDirectory();

        JsonNode receipt = new ObjectMapper().readTree(folder.resolve("receipt.json").toFile());
        assertThat(receipt.path("files")).hasSize(5);
        for (JsonNode f : receipt.path("files")) {
            byte[] bytes = Files.readAllBytes(Path.of(OUTBOX).resolve(f.path("key").asText()));
            assertThat(f.path("sha256").asText()).isEqualTo(sha256(bytes));
            assertThat(f.path("bytes").asLong()).isEqualTo(bytes.length);
            assertThat(f.path("group").asText()).isEqualTo("entity");
        }
        assertThat(receipt.path("requestId").asText()).isEqualTo(sandbox.lastRequestId(jobId));
        assertThat(job.requestId()).isEqualTo(sandbox.lastRequestId(jobId));
        assertThat(job.vendorStatus()).isEqualTo("processed");

        // 2 pending polls and the 303: the relay read the 303's body (there is no Location to follow) and
        // asked for nothing but the status URL and the linked entities
        List<RecordedRequest> mine = requestsOf(jobId, expectedPaths);
        List<RecordedRequest> polls = mine.stream().filter(r -> r.path().equals(sandbox.jobPath(jobId))).toList();
        assertThat(polls).hasSize(3).allMatch(r -> r.method().equals("GET"));
        assertThat(sandbox.polls(jobId)).isEqualTo(3);
        // each entity once: no second, concurrent delivery of the same job
        assertThat(mine).filteredOn(r -> !r.path().equals(sandbox.jobPath(jobId))).extracting(RecordedRequest::path)
                .containsExactlyInAnyOrderElementsOf(expectedPaths);
        assertThat(Set.copyOf(mine.stream().map(RecordedRequest::path).toList()))
                .isEqualTo(Stream.concat(Stream.of(sandbox.jobPath(jobId)), expectedPaths.stream()).collect(Collectors.toSet()));
        // the eta (1 s ahead) was honoured between pending polls
        for (int i = 1; i < polls.size(); i++) {
            assertThat(Duration.between(polls.get(i - 1).at(), polls.get(i).at())).isGreaterThanOrEqualTo(Duration.ofMillis(900));
        }
        // the token and the api-key went with every request: status polls and entity downloads alike
        assertThat(mine).allMatch(r -> "Bearer sandbox-token".equals(r.authorization()));
        assertThat(sandbox.apiKeyUses()).filteredOn(u -> u.path().equals(sandbox.jobPath(jobId)) || expectedPaths.contains(u.path()))
                .isNotEmpty().allMatch(u -> "sandbox-api-key".equals(u.apiKey()));
        assertThat(notificationsOf(adopted.id())).isEmpty();
    }

    @Test
    void theSameJobAdoptedTwiceIsOneJobAndBadIdsAreRefused() {
        String jobId = sandbox().processedWithLinks(1, 1);
        Adopted first = adopt("ehr", jobId);
        Adopted again = adopt("ehr", jobId.toUpperCase());
        assertThat(first.code()).isEqualTo(201);
        assertThat(again.code()).isEqualTo(200);
        assertThat(again.id()).isEqualTo(first.id());

        assertThat(adoptRaw("{\"source\":\"ehr\",\"jobId\":\"../../etc/passwd\"}").code()).isEqualTo(400);
        assertThat(adoptRaw("{\"source\":\"ehr\"}").code()).isEqualTo(400);
        assertThat(adoptRaw("{\"source\":\"ehr\",\"jobId\":42}").code()).isEqualTo(400);
        awaitState(first.id(), JobState.DELIVERED);
    }

    @Test
    void naiveEtaWithoutOffsetIsReadAsUtc() {
        String jobId = sandbox().naiveEtaJob(1, 1);
        Adopted adopted = adopt("ehr", jobId);
        awaitState(adopted.id(), JobState.DELIVERED);
        assertThat(sandbox().polls(jobId)).isEqualTo(2);
    }

    // ---- 200 with response_data -------------------------------------------------------------------------

    @Test
    void responseDataIsDeliveredAsResponseJsonByteForByte() throws Exception {
        String value = "{ \"approval_id\" : \"3f0e8b7c\",  \"amount\": 1.50, \"text\": \"Погоджено\" }";
        String jobId = sandbox().processedWithResponseData(1, value);
        Adopted adopted = adopt("ehr", jobId);
        ExportJob job = awaitState(adopted.id(), JobState.DELIVERED);

        Path response = Path.of(OUTBOX, "ehealth", jobId, "response.json");
        assertThat(Files.readAllBytes(response)).isEqualTo(value.getBytes(StandardCharsets.UTF_8));
        JsonNode receipt = new ObjectMapper().readTree(Path.of(OUTBOX, "ehealth", jobId, "receipt.json").toFile());
        assertThat(receipt.path("files")).singleElement().satisfies(f -> {
            assertThat(f.path("key").asText()).isEqualTo("ehealth/" + jobId + "/response.json");
            assertThat(f.path("sha256").asText()).isEqualTo(sha256(value.getBytes(StandardCharsets.UTF_8)));
        });
        // the value came with the status answer: the status URL was not fetched again for the delivery
        assertThat(sandbox().polls(jobId)).isEqualTo(2);
        assertThat(requestsOf(jobId, List.of())).hasSize(2);
        assertThat(job.requestId()).isEqualTo(sandbox().lastRequestId(jobId));
    }

    // ---- failures --------------------------------------------------------------------------------------

    @Test
    void aFailedJobEndsFailedWithStatusCodeErrorAndInvalidEntriesAndANotification() throws Exception {
        String jobId = sandbox().failed(1, 422);
        Adopted adopted = adopt("ehr", jobId);
        ExportJob job = awaitState(adopted.id(), JobState.FAILED);
        assertThat(job.lastError()).contains("status_code 422").contains("validation_failed")
                .contains("$.encounter.period (json_data_property): required")
                .contains("$.conditions[0].code (json_data_property): invalid \"Value is not allowed in enum\"")
                .contains("request_id " + sandbox().lastRequestId(jobId));
        assertThat(job.attribute("ehealthStatusCode")).isEqualTo("422");
        assertThat(job.requestId()).isEqualTo(sandbox().lastRequestId(jobId));

        JsonNode n = awaitNotification(adopted.id());
        assertThat(n.path("state").asText()).isEqualTo("FAILED");
        assertThat(n.path("kind").asText()).isEqualTo("ehealth-jobs");
        assertThat(n.path("vendorJobId").asText()).isEqualTo(jobId);
        assertThat(n.path("ids").path("requestId").asText()).isEqualTo(sandbox().lastRequestId(jobId));
        assertThat(n.path("reason").asText()).contains("$.encounter.period").contains("validation_failed");
        assertThat(n.path("suggestedAction").asText()).contains("invalid[]");
        assertThat(Path.of(OUTBOX, "ehealth", jobId)).doesNotExist();
    }

    @Test
    void otherFailureKindsCarryTheirTypeAndMessage() throws Exception {
        Map<Integer, String> expected = Map.of(
                409, "request_conflict: Encounter with such id already exists",
                500, "internal_error: Can't save data",
                403, "Error description");
        Map<Integer, Adopted> jobs = new HashMap<>();
        expected.keySet().forEach(code -> jobs.put(code, adopt("ehr", sandbox().failed(0, code))));
        for (var e : expected.entrySet()) {
            ExportJob job = awaitState(jobs.get(e.getKey()).id(), JobState.FAILED);
            assertThat(job.lastError()).contains("status_code " + e.getKey()).contains(e.getValue());
            assertThat(awaitNotification(job.id()).path("suggestedAction").asText()).isNotBlank();
        }
    }

    @Test
    void anUnknownJobIdFailsOn404() throws Exception {
        String jobId = sandbox().newJobId(); // never created at the sandbox
        Adopted adopted = adopt("ehr", jobId);
        ExportJob job = awaitState(adopted.id(), JobState.FAILED);
        assertThat(job.lastError()).startsWith("eHealth does not know job " + jobId + ": HTTP 404")
                .contains("not_found: Job not found");
        assertThat(requestsOf(jobId, List.of())).hasSize(1);
        assertThat(awaitNotification(adopted.id()).path("suggestedAction").asText()).contains("base-url");
    }

    @Test
    void aRefusedTokenIsRenewedOnceThenTheJobFails() throws Exception {
        String jobId = sandbox().processedWithLinks(0, 1);
        Adopted adopted = adopt("ehr-bad", jobId);
        ExportJob job = awaitState(adopted.id(), JobState.FAILED);
        assertThat(job.lastError()).contains("refused the credentials again").contains("HTTP 401");
        List<RecordedRequest> polls = requestsOf(jobId, List.of());
        assertThat(polls).hasSize(2).allMatch(r -> "Bearer wrong-token".equals(r.authorization()));
        assertThat(awaitNotification(adopted.id()).path("suggestedAction").asText()).contains("auth.token");
        List<String> entityPaths = sandbox().links(jobId).stream().map(l -> path(l.href())).toList();
        assertThat(sandbox().requests()).noneMatch(r -> entityPaths.contains(r.path()));
    }

    @Test
    void anExpiredTokenIsRenewedWithTheRefreshTokenAndTheJobGoesOn() throws Exception {
        EhealthSandbox sandbox = sandbox();
        String jobId = sandbox.processedWithLinks(1, 1);
        Adopted adopted = adopt("ehr-refresh", jobId);
        awaitState(adopted.id(), JobState.DELIVERED);

        List<RecordedRequest> tokenCalls = sandbox.requests().stream()
                .filter(r -> r.path().equals("/oauth/tokens")).toList();
        assertThat(tokenCalls).hasSize(1);
        JsonNode token = new ObjectMapper().readTree(tokenCalls.get(0).body()).path("token");
        assertThat(token.path("grant_type").asText()).isEqualTo("refresh_token");
        assertThat(token.path("client_id").asText()).isEqualTo("mis-client");
        assertThat(token.path("refresh_token").asText()).isEqualTo("mis-refresh");

        List<RecordedRequest> polls = requestsOf(jobId, List.of());
        assertThat(polls.get(0).authorization()).isEqualTo("Bearer expired-token");
        assertThat(polls.get(1).authorization()).startsWith("Bearer ehealth-at-");
        List<String> entityPaths = sandbox.links(jobId).stream().map(l -> path(l.href())).toList();
        assertThat(sandbox.requests()).filteredOn(r -> entityPaths.contains(r.path())).hasSize(entityPaths.size())
                .allMatch(r -> r.authorization().equals(polls.get(1).authorization()));
    }

    @Test
    void throttlingAndServerErrorsAreRetriedHonouringRetryAfter() {
        EhealthSandbox sandbox = sandbox();
        String jobId = sandbox.processedWithLinks(0, 1);
        sandbox.queueFault(jobId, Fault.status(429, "2"));
        sandbox.queueFault(jobId, Fault.status(503, null));
        Adopted adopted = adopt("ehr", jobId);
        // the relay itself saw the 429 (the HTTP client does not retry on its own) and waits as it was told
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20))
                .until(() -> String.valueOf(store().get(adopted.id()).lastError()).contains("HTTP 429"));
        assertThat(store().get(adopted.id()).lastError()).contains("too_many_requests");
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20))
                .until(() -> String.valueOf(store().get(adopted.id()).lastError()).contains("HTTP 503"));
        awaitState(adopted.id(), JobState.DELIVERED);
        List<RecordedRequest> polls = requestsOf(jobId, List.of()).stream()
                .filter(r -> r.path().equals(sandbox.jobPath(jobId))).toList();
        assertThat(polls).hasSize(3);
        assertThat(Duration.between(polls.get(0).at(), polls.get(1).at())).isGreaterThanOrEqualTo(Duration.ofMillis(1900));
    }

    @Test
    void malformedAnswersAndUnknownStatusValuesKeepThePolling() {
        EhealthSandbox sandbox = sandbox();
        String jobId = sandbox.processedWithLinks(4, 1);
        sandbox.queueFault(jobId, Fault.malformed("<html><body>Gateway says hello</body></html>"));
        sandbox.queueFault(jobId, Fault.malformed("{\"data\":{\"status\":\"paused\"},\"meta\":{\"request_id\":\"req-paused\"}}"));
        Adopted adopted = adopt("ehr", jobId);
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20))
                .until(() -> String.valueOf(store().get(adopted.id()).lastError()).contains("unreadable job status"));
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20))
                .until(() -> "paused".equals(store().get(adopted.id()).attribute("unknownStatus")));
        assertThat(store().get(adopted.id()).state()).isIn(JobState.SUBMITTED, JobState.RUNNING);
        ExportJob job = awaitState(adopted.id(), JobState.DELIVERED);
        assertThat(job.attribute("unknownStatus")).isNull();
        assertThat(sandbox.polls(jobId)).isEqualTo(5);
    }

    @Test
    void aLinkToAnotherHostFailsTheJobAndNothingIsFetched() throws Exception {
        String jobId = sandbox().processedWithLinks(0, List.of(
                new EhealthSandbox.Link("encounter", "/api/patients/p1/encounters/e1"),
                new EhealthSandbox.Link("condition", "http://other-host.invalid:9/api/patients/p1/conditions/c1")));
        Adopted adopted = adopt("ehr", jobId);
        ExportJob job = awaitState(adopted.id(), JobState.FAILED);
        assertThat(job.lastError()).contains("other-host.invalid").contains("allowed-hosts");
        assertThat(sandbox().requests()).noneMatch(r -> r.path().equals("/api/patients/p1/encounters/e1"));
        assertThat(awaitNotification(adopted.id()).path("suggestedAction").asText()).contains("allowed-hosts");
    }

    // ---- inbox -----------------------------------------------------------------------------------------

    @Test
    void inboxFilesAreAdoptedOnceAndBadFilesMovedToError() throws Exception {
        EhealthSandbox sandbox = sandbox();
        String a = sandbox.processedWithLinks(0, 1);
        String b = sandbox.processedWithResponseData(0, "{\"ok\":true}");
        Path inbox = Path.of(INBOX);
        Files.createDirectories(inbox);
        Files.writeString(inbox.resolve("batch-1.txt"), "# submitted by the MIS\r\n" + a + "\r\n\r\n" + b.toUpperCase() + "\r\n");
        await().atMost(WAIT).until(() -> jobsWithVendorId(a).size() == 1 && jobsWithVendorId(b).size() == 1);
        awaitState(jobsWithVendorId(a).get(0).id(), JobState.DELIVERED);
        awaitState(jobsWithVendorId(b).get(0).id(), JobState.DELIVERED);
        await().atMost(WAIT).until(() -> filesIn(inbox.resolve(".done")).stream().anyMatch(f -> f.getFileName().toString().endsWith("batch-1.txt")));

        // the same ids again: nothing new
        Files.writeString(inbox.resolve("batch-2.txt"), a + "\n");
        await().atMost(WAIT).until(() -> filesIn(inbox.resolve(".done")).stream().anyMatch(f -> f.getFileName().toString().endsWith("batch-2.txt")));
        assertThat(jobsWithVendorId(a)).hasSize(1);

        // a bad line refuses the whole file
        String c = sandbox.processedWithLinks(0, 1);
        Files.writeString(inbox.resolve("bad.txt"), c + "\nthis is not a job id\n");
        await().atMost(WAIT).until(() -> filesIn(inbox.resolve(".error")).stream().anyMatch(f -> f.getFileName().toString().endsWith("bad.txt")));
        assertThat(jobsWithVendorId(c)).isEmpty();
        assertThat(Files.list(inbox).filter(Files::isRegularFile)).isEmpty();
    }

    /** Last: over every test above, the relay asked the sandbox for job statuses, entities and tokens only. */
    @Test
    @Order(Integer.MAX_VALUE)
    void theRelayOnlyEverRequestedStatusEntityAndTokenUrls() {
        Set<String> entities = sandbox().entityPaths();
        assertThat(sandbox().requests()).isNotEmpty().allSatisfy(r -> assertThat(
                (r.method().equals("GET") && (r.path().matches("/api/jobs/[A-Za-z0-9_-]+") || entities.contains(r.path())))
                        || (r.method().equals("POST") && r.path().equals("/oauth/tokens")))
                .as(r.method() + " " + r.path()).isTrue());
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    record Adopted(int code, String id, String body) { }

    Adopted adopt(String source, String jobId) {
        Adopted a = adoptRaw("{\"source\":\"" + source + "\",\"jobId\":\"" + jobId + "\"}");
        assertThat(a.code()).as(a.body()).isIn(200, 201);
        return a;
    }

    /** {@code POST /api/jobs} over real HTTP. */
    Adopted adoptRaw(String json) {
        int port = context.hasServices(VertxPlatformHttpServer.class).stream()
                .mapToInt(VertxPlatformHttpServer::getPort).filter(p -> p > 0).findFirst().orElseThrow();
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/api/jobs"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Adopted(r.statusCode(), new ObjectMapper().readTree(r.body()).path("id").asText(null), r.body());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    ExportJob awaitState(String id, JobState state) {
        await().atMost(WAIT).until(() -> store().get(id).state().isTerminal());
        ExportJob job = store().get(id);
        assertThat(job.state()).as(job.lastError()).isEqualTo(state);
        return job;
    }

    List<ExportJob> jobsWithVendorId(String vendorJobId) {
        return store().list(null, 1000).stream().filter(j -> vendorJobId.equals(j.vendorJobId())).toList();
    }

    /** The requests about one eHealth job: its status URL and the given entity paths. */
    List<RecordedRequest> requestsOf(String jobId, List<String> entityPaths) {
        String status = sandbox().jobPath(jobId);
        return sandbox().requests().stream().filter(r -> r.path().equals(status) || entityPaths.contains(r.path()))
                .sorted(Comparator.comparing(RecordedRequest::at)).toList();
    }

    String path(String href) {
        if (href.startsWith("{host}")) {
            return href.substring("{host}".length());
        }
        String base = sandbox().baseUrl();
        return href.startsWith(base) ? href.substring(base.length()) : href;
    }

    JsonNode awaitNotification(String relayJobId) throws Exception {
        await().atMost(WAIT).until(() -> !notificationsOf(relayJobId).isEmpty());
        return new ObjectMapper().readTree(notificationsOf(relayJobId).get(0).toFile());
    }

    static List<Path> notificationsOf(String relayJobId) throws IOException {
        return filesIn(Path.of(OUTBOX, "_notifications")).stream()
                .filter(p -> p.getFileName().toString().startsWith(relayJobId + "-")).toList();
    }

    static List<Path> filesIn(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
