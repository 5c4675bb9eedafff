package org.healthexport.relay.faults;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.FaultLine;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.SandboxServer;
import org.healthexport.relay.sandbox.ScriptedFaults;
import org.healthexport.relay.sandbox.ScriptedFaults.Aim;
import org.healthexport.relay.sandbox.ScriptedFaults.Aimed;
import org.healthexport.relay.sandbox.ScriptedFaults.Fault;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The fault matrix of issue 8: each row (a test here) is one fault, each column (a subclass) one source kind with
 * its own YAML routes and sandbox. A row runs one export through the real routes with the fault injected at the
 * vendor's sandbox ({@link ScriptedFaults}) and checks that it ends as documented: every file delivered exactly
 * once and byte-exact, or a visible failure with the reason; and that the fault shows in the job, in
 * {@code relay_faults_total} and in one {@code job.fault} line with the vendor's request id.
 * <p>
 * A subclass carries {@code @CamelMainTest} with its source and what every column sets: a folder target under
 * {@code target/test-outbox/matrix-<kind>}, the sandbox, quick polls, {@code relay.http.response-timeout-ms=1500}
 * (the slow-server row waits 5 s) and {@code relay.http.max-status-bytes=65536} (the oversized-body row sends
 * more); and it says how its vendor starts an export, answers errors and names its files. Faults of the target,
 * the store and the process are the same code for every kind and are tested once (S3DeliveryRouteTest,
 * SftpDeliveryRouteTest, StoreRestartTest, RelayRestartTest); the folder-target outage row here shows each kind's
 * delivery waits for its target.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one relay per kind for all rows: each row waits for its own job
public abstract class FaultMatrix {
    static final ListAppender<ILoggingEvent> FAULT_LINES = new ListAppender<>();

    static {
        FAULT_LINES.start();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(FaultLine.class)).addAppender(FAULT_LINES);
    }

    @BeanInject
    protected CamelContext context;
    protected JobStore store;
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    // ---- what each kind supplies ----------------------------------------------------------------------------

    /** The kind, as in relay_faults_total{kind} and the job.fault lines. */
    protected abstract String kind();

    /** The vendor's sandbox, as registered in the Camel registry; its faults are reset before each row. */
    protected abstract SandboxServer sandbox();

    /** The folder target's directory (relay.target.file.dir of the column). */
    protected abstract Path outbox();

    /** Starts one export the way the vendor does (kick-off, adoption) and returns its job. */
    protected abstract ExportJob startExport() throws Exception;

    /** The files the export must deliver, by key under the job's folder, with their exact bytes. */
    protected abstract Map<String, byte[]> expectedFiles(ExportJob job);

    /** The vendor's answer for a transient server error with this code (its OperationOutcome or envelope). */
    protected abstract Fault transientAnswer(int code);

    /** The vendor's answer to a status poll that refuses it for good (a 400/403 with its error body). */
    protected abstract Fault fatalAnswer();

    /** A 200 status answer the relay cannot read (broken JSON, wrong shape). */
    protected abstract Fault malformedStatus();

    /** A well-formed status answer with a status value the vendor does not document. */
    protected abstract Fault unknownStatus();

    /** The value the relay flags the job with (attribute {@code unknownStatus}) for {@link #unknownStatus()}. */
    protected abstract String unknownStatusLabel();

    /** Makes every token the sandbox issued so far invalid (a token expiring in the middle of a series). */
    protected abstract void expireTokens();

    /** How many tokens the sandbox has issued (a renewal adds one). */
    protected abstract int tokensIssued();

    /** The vendor's answer to a file request once the file has expired (e.g. 410 with its body). */
    protected abstract Fault expiredFileAnswer();

    /** The job's end when every file request is answered {@link #expiredFileAnswer()}: its state and reason. */
    protected abstract JobState expiredOutcome();

    protected abstract String expiredReason();

    /**
     * The state a job waits in while its target is unavailable: DELIVERING for kinds that download listed files;
     * a kind whose pull writes files while it reads the source (HealthEx) waits RUNNING.
     */
    protected JobState stateWhileTargetIsDown() {
        return JobState.DELIVERING;
    }

    /** Whether a delivered file is listed in receipt.json (a kind's own report files may not be). */
    protected boolean listedInReceipt(String key) {
        return true;
    }

    /** The body of {@code POST /api/jobs} that adopts the job again (the same vendor job). */
    protected abstract String adoptionRequest(ExportJob job);

    // ---- helpers ----------------------------------------------------------------------------------------------

    @BeforeEach
    void cleanSlate() {
        store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
        faults().reset();
    }

    @AfterEach
    void noFaultLeftQueued() {
        faults().reset();
    }

    protected ScriptedFaults faults() {
        return sandbox().faults();
    }

    protected ExportJob awaitState(ExportJob job, JobState state) {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            JobState now = store.get(job.id()).state();
            if (now.isTerminal() && now != state) {
                throw new AssertionError("job ended " + now + " instead of " + state + ": " + store.get(job.id()).lastError());
            }
            return now == state;
        });
        return store.get(job.id());
    }

    protected ExportJob awaitLastError(ExportJob job, String text) {
        await().atMost(Duration.ofSeconds(30)).until(() -> String.valueOf(store.get(job.id()).lastError()).contains(text));
        return store.get(job.id());
    }

    protected List<String> faultLines(ExportJob job) {
        return FAULT_LINES.list.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(line -> line.startsWith("job.fault job=" + job.id() + " ")).toList();
    }

    /** relay_faults_total{kind, fault}, read before and after a row (the registry is shared by the rows). */
    protected double faultCount(String fault) {
        Counter counter = context.getRegistry().lookupByNameAndType("metricsRegistry", MeterRegistry.class)
                .find("relay_faults_total").tags("kind", kind(), "fault", fault).counter();
        return counter == null ? 0 : counter.count();
    }

    /** The job's folder on the target: where its receipt is. */
    protected Path jobFolder(ExportJob job) {
        String receipt = store.receiptKey(job.id()).orElseThrow(() -> new AssertionError("no receipt for " + job.id()));
        return outbox().resolve(receipt).getParent();
    }

    /** Every expected file once, byte-exact, nothing else but the receipt (no partial file, no duplicate). */
    protected void assertDeliveredOnce(ExportJob job) throws IOException {
        ExportJob done = awaitState(job, JobState.DELIVERED);
        Path folder = jobFolder(done);
        Map<String, byte[]> expected = expectedFiles(done);
        Map<String, Path> found = new TreeMap<>();
        try (Stream<Path> all = Files.walk(folder)) {
            all.filter(Files::isRegularFile).forEach(p -> found.put(folder.relativize(p).toString().replace('\\', '/'), p));
        }
        List<String> wanted = new ArrayList<>(expected.keySet());
        wanted.add("receipt.json");
        assertThat(found.keySet()).containsExactlyInAnyOrderElementsOf(wanted);
        for (Map.Entry<String, byte[]> e : expected.entrySet()) {
            assertThat(Files.readAllBytes(found.get(e.getKey()))).as(e.getKey()).isEqualTo(e.getValue());
        }
        JsonNode receipt = json.readTree(found.get("receipt.json").toFile());
        List<String> listed = new ArrayList<>();
        receipt.path("files").forEach(f -> listed.add(f.path("key").asText()));
        assertThat(listed).as("files in receipt.json").doesNotHaveDuplicates()
                .hasSize((int) expected.keySet().stream().filter(this::listedInReceipt).count());
    }

    /** A row's fault lines: as many as faults, each with its fault, HTTP code and the answer's request id. */
    protected void assertFaultLines(ExportJob job, String fault, List<Aimed> answers) {
        List<String> lines = faultLines(job);
        assertThat(lines).as("job.fault lines").hasSize(answers.size());
        for (int i = 0; i < answers.size(); i++) {
            Aimed a = answers.get(i);
            assertThat(lines.get(i)).contains(" kind=" + kind() + " fault=" + fault + " status=" + a.fault().code()
                    + " requestId=" + a.requestId() + " ");
        }
    }

    protected List<Aimed> faulted(Aim aim) {
        return faults().requests(aim).stream().filter(a -> a.fault() != null).toList();
    }

    protected HttpResponse<String> api(String method, String path, String body) throws IOException, InterruptedException {
        int port = context.hasServices(VertxPlatformHttpServer.class).stream()
                .mapToInt(VertxPlatformHttpServer::getPort).filter(p -> p > 0).findFirst().orElseThrow();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
    }

    // ---- the rows ----------------------------------------------------------------------------------------------

    /** 1. A 429 storm on the status polls: each Retry-After waited out, never polled faster. */
    @Test
    void rateLimitedPollsWaitAsAsked() throws Exception {
        double before = faultCount("rate-limited");
        for (int i = 0; i < 3; i++) {
            faults().queue(Aim.STATUS, transientAnswer(429).retryAfter("2"));
        }
        ExportJob job = startExport();
        assertDeliveredOnce(job);
        List<Aimed> polls = faults().requests(Aim.STATUS);
        for (int i = 1; i <= 3; i++) {
            assertThat(Duration.between(polls.get(i - 1).at(), polls.get(i).at())).as("wait after 429 #" + i)
                    .isGreaterThanOrEqualTo(Duration.ofMillis(1950));
        }
        assertFaultLines(job, "rate-limited", faulted(Aim.STATUS));
        assertThat(faultLines(job)).allSatisfy(line -> assertThat(line).contains(" retryIn=2s "));
        assertThat(faultCount("rate-limited") - before).isEqualTo(3);
    }

    /** 2. Transient server errors: the vendor's own 500/503 and a gateway's plain 502/504, each retried. */
    @Test
    void transientErrorsAreRetried() throws Exception {
        double before = faultCount("transient");
        faults().queue(Aim.STATUS, transientAnswer(500), Fault.answer(502, "text/html", "<html>Bad Gateway</html>"),
                transientAnswer(503).retryAfter("1"), Fault.answer(504, "text/html", "<html>Gateway Timeout</html>"));
        ExportJob job = startExport();
        assertDeliveredOnce(job);
        assertFaultLines(job, "transient", faulted(Aim.STATUS));
        assertThat(faultCount("transient") - before).isEqualTo(4);
        assertThat(store.get(job.id()).lastError()).isNull();
    }

    /** 2b. An error the vendor documents as final: FAILED at once with its text, one fatal line, nothing delivered. */
    @Test
    void aFatalErrorEndsTheJobVisibly() throws Exception {
        double before = faultCount("fatal");
        faults().queue(Aim.STATUS, fatalAnswer());
        ExportJob job = startExport();
        ExportJob failed = awaitState(job, JobState.FAILED);
        assertThat(failed.lastError()).isNotBlank();
        assertFaultLines(job, "fatal", faulted(Aim.STATUS));
        assertThat(faultLines(job).get(0)).contains(" state=FAILED ");
        assertThat(faultCount("fatal") - before).isEqualTo(1);
        assertThat(store.receiptKey(job.id())).isEmpty();
    }

    /** 3. A connection cut in the middle of a file: fetched again, never visible half-written. */
    @Test
    void aFileCutMidwayIsFetchedAgain() throws Exception {
        faults().queue(Aim.FILE, Fault.cutMidway());
        ExportJob job = startExport();
        assertDeliveredOnce(job);
        List<Aimed> files = faults().requests(Aim.FILE);
        Aimed cut = files.stream().filter(a -> a.fault() != null).findFirst().orElseThrow();
        assertThat(files.subList(files.indexOf(cut) + 1, files.size())).as("the cut file asked again")
                .anyMatch(a -> a.path().equals(cut.path()));
    }

    /** 4. Files expired at the source: a fresh manifest where the vendor allows, else a visible end with the reason. */
    @Test
    void expiredFilesEndVisiblyOrAreFetchedAfresh() throws Exception {
        for (int i = 0; i < 40; i++) {
            faults().queue(Aim.FILE, expiredFileAnswer());
        }
        ExportJob job = startExport();
        if (expiredOutcome() == JobState.DELIVERED) {
            faults().reset();
            assertDeliveredOnce(job);
            return;
        }
        ExportJob done = awaitState(job, expiredOutcome());
        assertThat(done.lastError()).contains(expiredReason());
        assertThat(store.receiptKey(job.id())).as("no receipt for an export that did not arrive whole").isEmpty();
        assertThat(faultLines(job)).isNotEmpty();
    }

    /** 5. A token that expires in the middle of a poll series is renewed, not counted as a failure. */
    @Test
    void anExpiredTokenIsRenewed() throws Exception {
        double fatal = faultCount("fatal");
        ExportJob job = startExport();
        await().atMost(Duration.ofSeconds(30)).until(() -> !faults().requests(Aim.STATUS).isEmpty());
        int issued = tokensIssued();
        expireTokens();
        assertDeliveredOnce(job);
        assertThat(tokensIssued()).as("a new token").isGreaterThan(issued);
        assertThat(faultCount("fatal")).isEqualTo(fatal);
        assertThat(store.get(job.id()).lastError()).isNull();
    }

    /** 6/7. The target unavailable during the delivery: the job waits DELIVERING and completes once it is back. */
    @Test
    void anUnavailableTargetIsWaitedFor() throws Exception {
        double before = faultCount("target-failed");
        Path outbox = outbox();
        if (Files.exists(outbox)) {
            Files.move(outbox, outbox.resolveSibling(outbox.getFileName() + "-before-" + System.nanoTime()));
        }
        Files.createDirectories(outbox.getParent());
        Files.writeString(outbox, "not a folder"); // the folder target cannot create anything under it
        ExportJob job;
        try {
            job = startExport();
            ExportJob waiting = awaitLastError(job, "Target file failed");
            assertThat(waiting.state()).isEqualTo(stateWhileTargetIsDown());
            await().atMost(Duration.ofSeconds(10)).until(() -> !faultLines(waiting).isEmpty());
        } finally {
            Files.delete(outbox);
            Files.createDirectories(outbox);
        }
        assertDeliveredOnce(job);
        assertThat(faultLines(job)).isNotEmpty()
                .allSatisfy(line -> assertThat(line).contains(" fault=target-failed status=- "));
        assertThat(faultCount("target-failed") - before).isEqualTo(faultLines(job).size());
    }

    /** 10. A server that does not answer in time: the poll times out and is asked again. */
    @Test
    void aSlowServerTimesOutAndIsAskedAgain() throws Exception {
        faults().queue(Aim.STATUS, Fault.slow(Duration.ofSeconds(5)));
        ExportJob job = startExport();
        awaitLastError(job, "imeout"); // "Timeout", "timed out"
        assertDeliveredOnce(job);
        // no answer came: no HTTP code, no request id
        assertThat(faultLines(job)).singleElement().asString().contains(" fault=transient status=- requestId=- ");
    }

    /** 11. A status body the relay cannot read: kept, reported, polled on until the vendor answers sense. */
    @Test
    void aMalformedStatusBodyIsKeptAndPolledOn() throws Exception {
        double before = faultCount("malformed");
        faults().queue(Aim.STATUS, malformedStatus());
        ExportJob job = startExport();
        await().atMost(Duration.ofSeconds(30)).until(() -> faultLines(job).size() == 1);
        assertThat(store.get(job.id()).state().isTerminal()).isFalse();
        assertDeliveredOnce(job);
        assertFaultLines(job, "malformed", faulted(Aim.STATUS));
        assertThat(faultCount("malformed") - before).isEqualTo(1);
    }

    /** 12. A status value the vendor does not document: flagged in the job and the metrics, polled until it clears. */
    @Test
    void anUnknownStatusIsFlaggedAndPolledOn() throws Exception {
        double before = faultCount("unknown-status");
        // the poll after it is answered a second late: the flag, cleared by the next answer, stays to be seen that
        // long (it was 100-200 ms, the backoff's wait, and a busy machine's await missed it)
        faults().queue(Aim.STATUS, unknownStatus(), Fault.slow(Duration.ofSeconds(1)));
        ExportJob job = startExport();
        await().atMost(Duration.ofSeconds(30)).until(() ->
                unknownStatusLabel().equals(store.get(job.id()).attribute("unknownStatus")));
        HttpResponse<String> shown = api("GET", "/api/jobs/" + job.id(), null);
        assertThat(json.readTree(shown.body()).path("unknownStatus").asText()).isEqualTo(unknownStatusLabel());
        ExportJob done = awaitState(job, JobState.DELIVERED);
        assertThat(done.attribute("unknownStatus")).isNull();
        assertDeliveredOnce(job);
        assertFaultLines(job, "unknown-status", faulted(Aim.STATUS).stream().filter(a -> a.fault().code() > 0).toList());
        assertThat(faultCount("unknown-status") - before).isEqualTo(1);
    }

    /** 13. A status body beyond relay.http.max-status-bytes: refused unread, the job polled on. */
    @Test
    void anOversizedStatusBodyIsRefused() throws Exception {
        faults().queue(Aim.STATUS, Fault.json(200, "{\"padding\":\"" + "x".repeat(100_000) + "\"}"));
        ExportJob job = startExport();
        await().atMost(Duration.ofSeconds(30)).until(() -> faultLines(job).size() == 1);
        assertThat(faultLines(job).get(0)).contains(" fault=malformed status=200 ").contains("65536");
        assertDeliveredOnce(job);
    }

    /** 14. The same vendor job adopted twice is one job. */
    @Test
    void theSameJobAdoptedTwiceIsOneJob() throws Exception {
        ExportJob job = startExport();
        String request = adoptionRequest(job);
        HttpResponse<String> first = api("POST", "/api/jobs", request);
        HttpResponse<String> second = api("POST", "/api/jobs", request);
        assertThat(first.statusCode()).as(first.body()).isIn(200, 201);
        assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
        assertThat(json.readTree(first.body()).path("id").asText()).isEqualTo(job.id());
        assertThat(json.readTree(second.body()).path("id").asText()).isEqualTo(job.id());
        assertDeliveredOnce(job);
    }
}
