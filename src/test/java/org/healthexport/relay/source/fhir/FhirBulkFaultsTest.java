package org.healthexport.relay.source.fhir;

import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.FaultLine;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.healthexport.relay.sandbox.ScriptedFaults.Aim;
import org.healthexport.relay.sandbox.ScriptedFaults.Fault;
import org.healthexport.relay.sandbox.SandboxServer.RecordedRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The fhir-bulk routes under the faults only Bulk Data has (a fatal OperationOutcome, a refused kick-off, expired
 * presigned links, files on foreign hosts, _since), through the real YAML routes. The faults every kind shares
 * are rows of {@link FhirBulkFaultMatrixTest}.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:fhir-bulk-faults;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/fhir-bulk-faults",
        "relay.sandbox.enabled=true",
        "relay.sandbox.retry-after=1",
        "relay.poll.initial-wait=200ms",
        "relay.poll.min-wait=100ms",
        "relay.http.response-timeout-ms=1500",
        "relay.sources.bulk.kind=fhir-bulk",
        "relay.sources.bulk.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.bulk.export=$export",
        "relay.sources.bulk.allowed-hosts={{relay.sandbox.storage-origin}}",
        "relay.sources.incr.kind=fhir-bulk",
        "relay.sources.incr.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.incr.export=Patient/$export?_type=Patient",
        "relay.sources.incr.since=auto",
        "relay.sources.posted.kind=fhir-bulk",
        "relay.sources.posted.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.posted.export=Group/g7/$export?_type=Patient&patient=Patient/p1,Patient/p2",
        "relay.sources.posted.kickoff-method=POST",
        "relay.sources.posted.delete-after-delivery=false"
})
class FhirBulkFaultsTest {
    static final Path OUTBOX = Path.of("target/test-outbox/fhir-bulk-faults");
    /** The job.fault lines: one per fault or refusal, with the job id and the sandbox's X-Request-Id. */
    static final ListAppender<ILoggingEvent> FAULT_LINES = new ListAppender<>();

    static {
        FAULT_LINES.start();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(FaultLine.class)).addAppender(FAULT_LINES);
    }

    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;
    FhirBulkSandbox sandbox;
    JobStore store;

    @BeforeEach
    void lookUp() {
        sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
        store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
    }

    ExportJob kickOff(String source) {
        return producer.requestBody("direct:kickoff-source", source, ExportJob.class);
    }

    ExportJob awaitState(ExportJob job, JobState state) {
        await().atMost(Duration.ofSeconds(40)).until(() -> store.get(job.id()).state() == state);
        return store.get(job.id());
    }

    List<String> faultLines(ExportJob job) {
        return FAULT_LINES.list.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(line -> line.startsWith("job.fault job=" + job.id() + " ")).toList();
    }

    /** relay_faults_total{kind="fhir-bulk", fault}: read before and after a test (the registry is shared). */
    double faultCount(String fault) {
        Counter counter = context.getRegistry().lookupByNameAndType("metricsRegistry", MeterRegistry.class)
                .find("relay_faults_total").tags("kind", "fhir-bulk", "fault", fault).counter();
        return counter == null ? 0 : counter.count();
    }

    ExportJob awaitLastError(ExportJob job, String text) {
        await().atMost(Duration.ofSeconds(20)).until(() -> String.valueOf(store.get(job.id()).lastError()).contains(text));
        return store.get(job.id());
    }

    static String vendorJob(ExportJob job) {
        return job.statusUrl().substring(job.statusUrl().lastIndexOf('/') + 1);
    }

    List<RecordedRequest> statusPolls(ExportJob job) {
        String path = URI.create(job.statusUrl()).getPath();
        return sandbox.requests().stream().filter(r -> r.method().equals("GET") && r.path().equals(path)).toList();
    }

    @Test
    void aFatalOperationOutcomeFailsTheJobWithItsTextAndANotification() throws IOException {
        sandbox.faults().queue(Aim.STATUS, Fault.operationOutcome(400, "invalid", "Injected 400"));
        double before = faultCount("fatal");
        ExportJob job = awaitState(kickOff("bulk"), JobState.FAILED);
        assertThat(job.lastError()).isEqualTo("HTTP 400: Injected 400");
        String requestId = statusPolls(job).get(0).requestId();
        assertThat(faultLines(job)).containsExactly("job.fault job=" + job.id() + " source=bulk kind=fhir-bulk "
                + "fault=fatal status=400 requestId=" + requestId + " retryIn=- state=FAILED reason=\"HTTP 400: Injected 400\"");
        assertThat(job.requestId()).isEqualTo(requestId); // stored with the job: the API shows it
        assertThat(faultCount("fatal") - before).isEqualTo(1);
        // the notification is written right after the state change
        await().atMost(Duration.ofSeconds(10)).until(() -> notifications(job).size() == 1);
        assertThat(Files.readString(notifications(job).get(0))).contains("\"state\":\"FAILED\"")
                .contains("HTTP 400: Injected 400");
    }

    private List<Path> notifications(ExportJob job) throws IOException {
        if (!Files.isDirectory(OUTBOX.resolve("_notifications"))) {
            return List.of();
        }
        try (Stream<Path> notes = Files.walk(OUTBOX.resolve("_notifications"))) {
            return notes.filter(p -> p.getFileName().toString().startsWith(job.id() + "-FAILED")).toList();
        }
    }

    /** The kick-off is recorded as a job first: a refusal ends that job, in the server's words. */
    @Test
    void aRefusedKickoffFailsItsJobWithTheServersWordsAndAFaultLine() {
        sandbox.faults().queue(Aim.KICKOFF, Fault.operationOutcome(403, "forbidden", "Injected 403"));
        double before = faultCount("fatal");
        ExportJob job = kickOff("bulk");
        assertThat(job.state()).isEqualTo(JobState.FAILED);
        assertThat(job.statusUrl()).isNull();
        assertThat(job.lastError()).isEqualTo("Kick-off refused: HTTP 403: Injected 403");
        RecordedRequest kickoff = sandbox.requests().stream().filter(r -> r.path().endsWith("$export"))
                .reduce((a, b) -> b).orElseThrow();
        assertThat(faultLines(job)).containsExactly("job.fault job=" + job.id() + " source=bulk kind=fhir-bulk"
                + " fault=fatal status=403 requestId=" + kickoff.requestId() + " retryIn=- state=FAILED"
                + " reason=\"Kick-off refused: HTTP 403: Injected 403\"");
        assertThat(faultCount("fatal") - before).isEqualTo(1);
    }

    /**
     * A server that runs one export at a time answers 429 with Retry-After (the IG allows it): the kick-off waits
     * that long as a job, is sent again, and the export is delivered.
     */
    @Test
    void aThrottledKickoffIsSentAgainAfterRetryAfterAndDelivered() {
        sandbox.faults().queue(Aim.KICKOFF, Fault.operationOutcome(429, "throttled", "An export is running")
                .retryAfter("1"));
        long kickoffsBefore = sandbox.requests().stream().filter(r -> r.path().endsWith("$export")).count();
        ExportJob queued = kickOff("bulk");
        assertThat(queued.state()).isEqualTo(JobState.SUBMITTED);
        assertThat(queued.statusUrl()).isNull();
        assertThat(queued.lastError()).contains("An export is running");

        ExportJob done = awaitState(queued, JobState.DELIVERED);

        List<RecordedRequest> kickoffs = sandbox.requests().stream().filter(r -> r.path().endsWith("$export"))
                .skip(kickoffsBefore).toList();
        assertThat(kickoffs).hasSize(2);
        assertThat(Duration.between(kickoffs.get(0).at(), kickoffs.get(1).at())).isGreaterThanOrEqualTo(
                Duration.ofMillis(950));
        assertThat(done.statusUrl()).isNotNull();
        assertThat(faultLines(done)).singleElement().asString().contains(" fault=rate-limited status=429 ")
                .contains(" state=SUBMITTED ");
    }

    @Test
    void anExpiredFileLinkIsAnsweredByAFreshManifest() {
        sandbox.expireLinks("Observation-2.ndjson", 1);
        double before = faultCount("file-failed");
        ExportJob job = awaitState(kickOff("bulk"), JobState.DELIVERED);
        assertThat(statusPolls(job)).hasSize(4); // 2 in progress, the manifest, a fresh manifest
        // the refused fetch is the first one of the presigned storage for this job
        String refused = sandbox.storageRequests().stream().filter(r -> r.path().contains("/" + vendorJob(job) + "/"))
                .findFirst().orElseThrow().requestId();
        assertThat(faultLines(job)).singleElement().asString().contains(" fault=file-failed status=403 requestId="
                + refused + " retryIn=0ms state=RUNNING ").contains("fetching a fresh manifest");
        assertThat(faultCount("file-failed") - before).isEqualTo(1);
    }

    @Test
    void aKickoffAnsweringTheStatusUrlOfAnotherJobFailsTheNewJobAndLeavesTheOtherAlone() {
        ExportJob first = awaitState(kickOff("bulk"), JobState.DELIVERED);
        sandbox.faults().queue(Aim.KICKOFF, new Fault(202, null, new byte[0],
                Map.of("Content-Location", first.statusUrl()), null, false));
        ExportJob second = kickOff("bulk");
        assertThat(second.state()).isEqualTo(JobState.FAILED);
        assertThat(second.lastError()).contains("status URL job " + first.id() + " already follows (DELIVERED)")
                .doesNotContain(first.statusUrl());
        assertThat(second.statusUrl()).isNull();
        assertThat(store.get(first.id()).updatedAt()).isEqualTo(first.updatedAt());
        assertThat(faultLines(second)).noneMatch(line -> line.contains("fault=transient"));
    }

    @Test
    void aFileOnAForeignHostFailsTheJobAndNothingIsSentThere() {
        sandbox.extraOutputUrl("https://evil.example.com/steal.ndjson");
        try {
            double before = faultCount("refused-url");
            ExportJob job = awaitState(kickOff("bulk"), JobState.FAILED);
            assertThat(job.lastError()).contains("evil.example.com").contains("not the origin");
            assertThat(store.receiptKey(job.id())).isEmpty();
            // the answer that listed the URL: the manifest, the last status poll
            List<RecordedRequest> polls = statusPolls(job);
            assertThat(faultLines(job)).singleElement().asString().contains(" fault=refused-url status=- requestId="
                    + polls.get(polls.size() - 1).requestId() + " retryIn=- state=FAILED ").contains("evil.example.com");
            assertThat(faultCount("refused-url") - before).isEqualTo(1);
        } finally {
            sandbox.extraOutputUrl(null);
        }
    }

    @Test
    void sinceAutoSendsTheTransactionTimeOfTheLastDeliveredExport() {
        ExportJob first = awaitState(kickOff("incr"), JobState.DELIVERED);
        ExportJob second = awaitState(kickOff("incr"), JobState.DELIVERED);
        List<RecordedRequest> kickoffs = sandbox.requests().stream()
                .filter(r -> r.path().endsWith("/Patient/$export")).toList();
        assertThat(kickoffs.get(kickoffs.size() - 2).query()).doesNotContain("_since");
        assertThat(kickoffs.get(kickoffs.size() - 1).query()).contains("_since=" + first.transactionTime());
        // with _since the sandbox lists deleted resources, delivered under deleted/
        assertThat(Files.exists(OUTBOX.resolve("incr").resolve(second.id()).resolve("deleted/Bundle-1.ndjson"))).isTrue();
    }

    @Test
    void aPostKickoffSendsParametersAndKeepsTheExportWhenAsked() {
        ExportJob job = awaitState(kickOff("posted"), JobState.DELIVERED);
        RecordedRequest kickoff = sandbox.requests().stream().filter(r -> r.path().endsWith("/Group/g7/$export"))
                .findFirst().orElseThrow();
        assertThat(kickoff.method()).isEqualTo("POST");
        assertThat(kickoff.body()).contains("\"resourceType\":\"Parameters\"")
                .contains("{\"name\":\"patient\",\"valueReference\":{\"reference\":\"Patient/p1\"}}");
        String statusPath = URI.create(job.statusUrl()).getPath();
        assertThat(sandbox.requests()).noneMatch(r -> r.method().equals("DELETE") && r.path().equals(statusPath));
    }
}
