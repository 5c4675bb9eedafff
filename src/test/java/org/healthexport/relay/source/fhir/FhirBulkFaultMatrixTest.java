package org.healthexport.relay.source.fhir;

import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.faults.FaultMatrix;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.healthexport.relay.sandbox.ScriptedFaults.Fault;
import org.junit.jupiter.api.BeforeEach;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The fault matrix on the fhir-bulk kind: a Group export with client-credentials tokens, to a folder. */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:matrix-fhir-bulk;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/matrix-fhir-bulk",
        "relay.sandbox.enabled=true",
        "relay.sandbox.retry-after=1",
        "relay.poll.initial-wait=200ms",
        "relay.poll.min-wait=100ms",
        "relay.http.response-timeout-ms=1500",
        "relay.http.max-status-bytes=65536",
        "relay.sources.bulk.kind=fhir-bulk",
        "relay.sources.bulk.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.bulk.export=Group/g1/$export",
        "relay.sources.bulk.allowed-hosts={{relay.sandbox.storage-origin}}",
        "relay.sources.bulk.auth.mode=client-credentials",
        "relay.sources.bulk.auth.client-id=matrix-client",
        "relay.sources.bulk.auth.client-secret=matrix-secret-value"
})
class FhirBulkFaultMatrixTest extends FaultMatrix {
    static final Path OUTBOX = Path.of("target/test-outbox/matrix-fhir-bulk");
    @Produce
    ProducerTemplate producer;
    FhirBulkSandbox sandbox;

    @BeforeEach
    void registerClient() {
        sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
        sandbox.registerClient("matrix-client", "matrix-secret-value");
    }

    @Override
    protected String kind() {
        return "fhir-bulk";
    }

    @Override
    protected FhirBulkSandbox sandbox() {
        return context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
    }

    @Override
    protected Path outbox() {
        return OUTBOX;
    }

    @Override
    protected ExportJob startExport() {
        return producer.requestBody("direct:kickoff-source", "bulk", ExportJob.class);
    }

    @Override
    protected Map<String, byte[]> expectedFiles(ExportJob job) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String name : new String[] {"Patient-1.ndjson", "Observation-1.ndjson", "Observation-2.ndjson"}) {
            files.put(name, sandbox.content(name));
        }
        files.put("error/OperationOutcome-1.ndjson", sandbox.content("errors.ndjson"));
        return files;
    }

    @Override
    protected Fault fatalAnswer() {
        return Fault.operationOutcome(400, "invalid", "Injected");
    }

    @Override
    protected Fault transientAnswer(int code) {
        return Fault.operationOutcome(code, code == 429 ? "throttled" : "transient", "Injected");
    }


    @Override
    protected Fault malformedStatus() {
        return Fault.json(200, "{\"output\": \"not-a-list\"");
    }

    /** Bulk Data's status is the HTTP code: 202 running, 200 done; any other 2xx is not in the IG. */
    @Override
    protected Fault unknownStatus() {
        return Fault.json(203, "{}");
    }

    @Override
    protected String unknownStatusLabel() {
        return "HTTP 203";
    }

    @Override
    protected void expireTokens() {
        sandbox.revokeTokens();
    }

    @Override
    protected int tokensIssued() {
        return sandbox.tokensIssued();
    }

    @Override
    protected Fault expiredFileAnswer() {
        return Fault.operationOutcome(410, "not-found", "Injected");
    }

    /** The IG lets a client ask for the manifest again; after three fresh manifests the export is EXPIRED. */
    @Override
    protected JobState expiredOutcome() {
        return JobState.EXPIRED;
    }

    @Override
    protected String expiredReason() {
        return "no longer available";
    }

    @Override
    protected String adoptionRequest(ExportJob job) {
        return "{\"source\":\"bulk\",\"statusUrl\":\"" + job.statusUrl() + "\"}";
    }
}
