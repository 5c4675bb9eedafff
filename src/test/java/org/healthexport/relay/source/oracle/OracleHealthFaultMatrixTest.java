package org.healthexport.relay.source.oracle;

import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.faults.FaultMatrix;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.sandbox.OracleHealthSandbox;
import org.healthexport.relay.sandbox.ScriptedFaults.Fault;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.awaitility.Awaitility.await;

/**
 * The fault matrix on the oracle-health kind: a Group export kicked off by the relay (one export per client and
 * tenant), a system account with its secret in a Basic header, files through a 307 to presigned storage, to a
 * folder. Status faults hit {@code bulk-export/jobs/{id}}, file faults the presigned storage.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:matrix-oracle-health;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/matrix-oracle-health",
        "relay.sandbox.enabled=true",
        "relay.sandbox.oracle-health.retry-after=1",
        "relay.sandbox.oracle-health.client-id=matrix-client",
        "relay.sandbox.oracle-health.client-secret=matrix-secret-value",
        "relay.poll.initial-wait=200ms",
        "relay.poll.min-wait=100ms",
        "relay.kickoff.wait=200ms",
        "relay.http.response-timeout-ms=1500",
        "relay.http.max-status-bytes=65536",
        "relay.sources.matrix.kind=oracle-health",
        "relay.sources.matrix.base-url={{relay.sandbox.oracle-health.url}}/r4/" + OracleHealthSandbox.TENANT,
        "relay.sources.matrix.export=Group/" + OracleHealthSandbox.GROUP_3 + "/$export?_type=Patient,Observation",
        "relay.sources.matrix.auth.client-id=matrix-client",
        "relay.sources.matrix.auth.client-secret=matrix-secret-value",
        "relay.sources.matrix.allowed-hosts=127.0.0.1"
})
class OracleHealthFaultMatrixTest extends FaultMatrix {
    static final Path OUTBOX = Path.of("target/test-outbox/matrix-oracle-health");
    @Produce
    ProducerTemplate producer;

    @Override
    protected String kind() {
        return "oracle-health";
    }

    @Override
    protected OracleHealthSandbox sandbox() {
        return context.getRegistry().lookupByNameAndType("oracle-health-sandbox", OracleHealthSandbox.class);
    }

    @Override
    protected Path outbox() {
        return OUTBOX;
    }

    /**
     * The kick-off is recorded as a job and sent once no other export of the client and tenant runs (the previous
     * row's may still be deleted at Oracle): the row starts once Oracle has given the export its Job_ID.
     */
    @Override
    protected ExportJob startExport() {
        ExportJob job = producer.requestBody("direct:kickoff-source", "matrix", ExportJob.class);
        await().atMost(Duration.ofSeconds(30)).until(() -> store.get(job.id()).vendorJobId() != null);
        return store.get(job.id());
    }

    /** Oracle's files in manifest order, keyed as the relay numbers them per type (errors under error/). */
    @Override
    protected Map<String, byte[]> expectedFiles(ExportJob job) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        Map<String, Integer> perType = new HashMap<>();
        for (OracleHealthSandbox.ExportFile f : sandbox().files(job.vendorJobId())) {
            int n = perType.merge(f.group() + "/" + f.type(), 1, Integer::sum);
            String folder = f.group().equals("error") ? "error/" : "";
            files.put(folder + f.type() + "-" + n + ".ndjson", f.content());
        }
        return files;
    }

    @Override
    protected Fault fatalAnswer() {
        return Fault.operationOutcome(400, "invalid", "Injected");
    }

    /** Oracle's errors are OperationOutcomes; its 429 is "throttled" (as a forum post shows a real one). */
    @Override
    protected Fault transientAnswer(int code) {
        return Fault.operationOutcome(code, code == 429 ? "throttled" : "transient",
                code == 429 ? "Too Many Requests" : "Injected");
    }

    @Override
    protected Fault malformedStatus() {
        return Fault.answer(200, "application/fhir+json", "{\"output\": \"not-a-list\"");
    }

    /** Oracle's status is the HTTP code as in Bulk Data: 202 running, 200 done; it documents no other 2xx. */
    @Override
    protected Fault unknownStatus() {
        return Fault.answer(203, "application/fhir+json", "{}");
    }

    @Override
    protected String unknownStatusLabel() {
        return "HTTP 203";
    }

    @Override
    protected void expireTokens() {
        sandbox().revokeTokens();
    }

    @Override
    protected int tokensIssued() {
        return sandbox().tokensIssued();
    }

    /** A file deleted from the presigned storage (Oracle deletes export files after 30 days): S3's 404 NoSuchKey. */
    @Override
    protected Fault expiredFileAnswer() {
        return Fault.answer(404, "application/xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey"
                + "</Code><Message>The specified key does not exist.</Message></Error>");
    }

    /** A gone file brings a fresh manifest; after three fresh manifests whose files are gone too, EXPIRED. */
    @Override
    protected JobState expiredOutcome() {
        return JobState.EXPIRED;
    }

    @Override
    protected String expiredReason() {
        return "no longer available";
    }

    /** Oracle's Job_ID, as an export started elsewhere is adopted. */
    @Override
    protected String adoptionRequest(ExportJob job) {
        return "{\"source\":\"matrix\",\"jobId\":\"" + job.vendorJobId() + "\"}";
    }
}
