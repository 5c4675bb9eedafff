package org.healthexport.relay.source.redox;

import com.nimbusds.jose.jwk.RSAKey;
import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.auth.TestKeys;
import org.healthexport.relay.faults.FaultMatrix;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.sandbox.RedoxSandbox;
import org.healthexport.relay.sandbox.ScriptedFaults.Aim;
import org.healthexport.relay.sandbox.ScriptedFaults.Fault;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The fault matrix on the redox-bulk kind: a group-export with JWT client-assertion tokens, status-check-response
 * envelopes, two files on the Redox origin (token required) and one on an external file host, to a folder.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:matrix-redox-bulk;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/matrix-redox-bulk",
        "relay.sandbox.enabled=true",
        "relay.sandbox.redox-bulk.retry-after=1",
        "relay.poll.initial-wait=200ms",
        "relay.poll.min-wait=100ms",
        "relay.http.response-timeout-ms=1500",
        "relay.http.max-status-bytes=65536",
        "relay.sources.rdx.kind=redox-bulk",
        "relay.sources.rdx.base-url={{relay.sandbox.redox-bulk.url}}",
        "relay.sources.rdx.destination-slug=redox-fhir-sandbox",
        "relay.sources.rdx.environment=Development",
        "relay.sources.rdx.group-id=g-matrix",
        "relay.sources.rdx.export-params=_type=Patient,Encounter",
        "relay.sources.rdx.auth.client-id=matrix-client",
        "relay.sources.rdx.auth.key-id=matrix-key-1",
        "relay.sources.rdx.auth.private-key-file=" + RedoxBulkFaultMatrixTest.KEY_FILE,
        "relay.sources.rdx.allowed-hosts=127.0.0.1"
})
class RedoxBulkFaultMatrixTest extends FaultMatrix {
    static final Path OUTBOX = Path.of("target/test-outbox/matrix-redox-bulk");
    static final String KEY_FILE = "target/redox-matrix-key.json";
    static final RSAKey KEY = TestKeys.rsaKeyFile(KEY_FILE, "matrix-key-1");
    @Produce
    ProducerTemplate producer;

    @BeforeEach
    void registerKeyAndExternalFile() {
        sandbox().registerKey("matrix-client", KEY.toPublicJWK()).externalFile(true);
    }

    @Override
    protected String kind() {
        return "redox-bulk";
    }

    @Override
    protected RedoxSandbox sandbox() {
        return context.getRegistry().lookupByNameAndType("redox-bulk-sandbox", RedoxSandbox.class);
    }

    @Override
    protected Path outbox() {
        return OUTBOX;
    }

    @Override
    protected ExportJob startExport() {
        return producer.requestBody("direct:kickoff-source", "rdx", ExportJob.class);
    }

    /** Patient and Encounter from the Redox origin, Observation from the external file host; .ndjson.gz decoded. */
    @Override
    protected Map<String, byte[]> expectedFiles(ExportJob job) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String type : new String[] {"Patient", "Encounter", "Observation"}) {
            files.put(type + "-1.ndjson", RedoxSandbox.content(type));
        }
        return files;
    }

    @Override
    protected Fault fatalAnswer() {
        return Fault.operationOutcome(400, "invalid", "Injected");
    }

    /** Redox's FHIR API answers HTTP errors with an OperationOutcome, as its 404s do. */
    @Override
    protected Fault transientAnswer(int code) {
        return Fault.operationOutcome(code, code == 429 ? "throttled" : "transient", "Injected");
    }


    /** An envelope cut short: not JSON. */
    @Override
    protected Fault malformedStatus() {
        return Fault.json(200, "{\"Meta\":{\"DataModel\":\"FHIR Bulk Data Access\",\"EventType\":\"status-check-response\"");
    }

    /**
     * A well-formed status-check-response whose {@code status} is neither 202 nor 200 nor an error (Redox documents
     * only those). Its Meta carries no Logs: the fault line then names the answer by its X-Request-Id, as the
     * matrix checks (an envelope with Logs is named by its first log id, the id Redox support asks for).
     */
    @Override
    protected Fault unknownStatus() {
        return Fault.json(200, "{\"Meta\":{\"DataModel\":\"FHIR Bulk Data Access\",\"EventType\":\"status-check-response\","
                + "\"EventDateTime\":\"2024-05-01T10:00:00Z\",\"Test\":true},\"status\":\"queued\",\"progress\":null,"
                + "\"output\":[]}");
    }

    @Override
    protected String unknownStatusLabel() {
        return "queued";
    }

    @Override
    protected void expireTokens() {
        sandbox().expireTokens();
    }

    @Override
    protected int tokensIssued() {
        return sandbox().tokensIssued("matrix-client");
    }

    /** Redox documents no file expiry; a file server that dropped the file answers 410 like any FHIR server. */
    @Override
    protected Fault expiredFileAnswer() {
        return Fault.operationOutcome(410, "not-found", "Injected");
    }

    /** The status URL still answers the manifest: fetched afresh three times, then the export is EXPIRED. */
    @Override
    protected JobState expiredOutcome() {
        return JobState.EXPIRED;
    }

    @Override
    protected String expiredReason() {
        return "no longer available";
    }

    /** As docs/oracle-redox.md documents: {"source": "<id>", "statusUrl": "<the export's status URL>"}. */
    @Override
    protected String adoptionRequest(ExportJob job) {
        return "{\"source\":\"rdx\",\"statusUrl\":\"" + job.statusUrl() + "\"}";
    }

    // ---- Redox's own: an error status inside a 200 envelope --------------------------------------------------

    static Fault envelope(String status, String logId) {
        return Fault.json(200, "{\"Meta\":{\"DataModel\":\"FHIR Bulk Data Access\",\"EventType\":\"status-check-response\","
                + "\"Logs\":[{\"ID\":\"" + logId + "\",\"AttemptID\":\"a-" + logId + "\"}]},\"status\":" + status
                + ",\"progress\":null,\"output\":[]}");
    }

    /** Envelope status 429 (HTTP 200): rate-limited as a 429 answer, named by Redox's log id, waited out. */
    @Test
    void anEnvelopeStatus429IsRateLimitedUnderItsLogId() throws Exception {
        double before = faultCount("rate-limited");
        faults().queue(Aim.STATUS,
                envelope("429", "matrix-log-429").retryAfter("1"));
        ExportJob job = startExport();
        assertDeliveredOnce(job);
        assertThat(faultLines(job)).singleElement().asString()
                .contains(" fault=rate-limited status=429 requestId=matrix-log-429 retryIn=1s ");
        assertThat(faultCount("rate-limited") - before).isEqualTo(1);
    }

    /** Envelope status 404: the export ends FAILED with Redox's status and log id, in the job and its fault line. */
    @Test
    void anEnvelopeErrorStatusFailsWithItsCodeAndLogId() {
        faults().queue(Aim.STATUS, envelope("404", "matrix-log-404"));
        ExportJob job = startExport();
        ExportJob failed = awaitState(job, JobState.FAILED);
        assertThat(failed.lastError()).contains("status 404").contains("matrix-log-404");
        await().until(() -> !faultLines(job).isEmpty());
        assertThat(faultLines(job)).singleElement().asString()
                .contains(" fault=fatal status=404 requestId=matrix-log-404 ");
    }
}
