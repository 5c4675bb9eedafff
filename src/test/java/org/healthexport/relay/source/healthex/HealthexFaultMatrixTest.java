package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.faults.FaultMatrix;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.sandbox.HealthexSandbox;
import org.healthexport.relay.sandbox.ScriptedFaults.Fault;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The fault matrix on the healthex kind: one patient per row (with a login, so the data-retrieval status is
 * watched), {@code $updateData} with the researcher token, the status with the patient token, the records from
 * paged {@code $everything}; to a folder. STATUS faults hit the data-retrieval status, FILE faults the pages.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:matrix-healthex;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/matrix-healthex",
        "relay.sandbox.enabled=true",
        "relay.poll.initial-wait=200ms",
        "relay.poll.min-wait=100ms",
        "relay.http.response-timeout-ms=1500",
        "relay.http.max-status-bytes=65536",
        "relay.sources.hxmx.kind=healthex",
        "relay.sources.hxmx.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxmx.project-id=prj-sandbox",
        "relay.sources.hxmx.auth.api-key=sandbox-api-key",
        "relay.sources.hxmx.auth.secret=sandbox-api-secret",
        "relay.sources.hxmx.patients-file=src/test/resources/healthex/patients-matrix.json",
        "relay.sources.hxmx.page-size=10"
})
class HealthexFaultMatrixTest extends FaultMatrix {
    static final Path OUTBOX = Path.of("target/test-outbox/matrix-healthex");
    static final int PATIENTS = 20; // as many as patients-matrix.json lists: one per started export
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Each export is a new patient: a row's job never meets another row's job in flight. */
    private final AtomicInteger exports = new AtomicInteger();
    HealthexSandbox sandbox;

    @BeforeEach
    void registerPatients() {
        if (sandbox != null) {
            return; // one relay for all rows (PER_CLASS): the patients are set up once
        }
        sandbox = context.getRegistry().lookupByNameAndType("healthex-sandbox", HealthexSandbox.class);
        for (int i = 1; i <= PATIENTS; i++) {
            sandbox.patient(patientId(i)).login("mx-" + i + "@patients.test", "pw-mx-" + i).records(25)
                    .nextRetrievalIds(retrievalId(i));
        }
    }

    static String patientId(int n) {
        return "pat-mx-" + n;
    }

    /** The retrievalId the sandbox names for the n-th export: known ahead, so a status body can be scripted. */
    static String retrievalId(int n) {
        return "batch-mx-" + n;
    }

    @Override
    protected String kind() {
        return "healthex";
    }

    @Override
    protected HealthexSandbox sandbox() {
        return context.getRegistry().lookupByNameAndType("healthex-sandbox", HealthexSandbox.class);
    }

    @Override
    protected Path outbox() {
        return OUTBOX;
    }

    /** {@code POST /api/jobs} for the next patient: the job sends $updateData, then watches the status. */
    @Override
    protected ExportJob startExport() throws Exception {
        int n = exports.incrementAndGet();
        assertThat(n).as("patients in patients-matrix.json").isLessThanOrEqualTo(PATIENTS);
        HttpResponse<String> answer = api("POST", "/api/jobs", adoption(patientId(n)));
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
        return store.get(JSON.readTree(answer.body()).path("id").asText());
    }

    static String adoption(String patientId) {
        return "{\"source\":\"hxmx\",\"patientId\":\"" + patientId + "\"}";
    }

    /**
     * One NDJSON file per resource type, exactly the patient's records; and status.json, which names this job,
     * its retrieval and every record (its bytes are the relay's own: checked here, then taken as they are).
     */
    @Override
    protected Map<String, byte[]> expectedFiles(ExportJob job) {
        HealthexSandbox.Patient patient = sandbox.patient(job.attribute(HealthexJobs.PATIENT_ID));
        Map<String, byte[]> files = new LinkedHashMap<>();
        patient.ndjson().forEach((type, lines) -> files.put(type + ".ndjson", lines.getBytes(StandardCharsets.UTF_8)));
        try {
            byte[] status = Files.readAllBytes(jobFolder(job).resolve("status.json"));
            JsonNode s = JSON.readTree(status);
            assertThat(s.path("jobId").asText()).isEqualTo(job.id());
            assertThat(s.path("retrievalId").asText()).isEqualTo(job.attribute(HealthexJobs.RETRIEVAL_ID));
            assertThat(s.path("dataRetrievalStatus").path("dataRetrievalStatus").asText()).isEqualTo("COMPLETE");
            assertThat(s.path("records").path("entries").asInt()).isEqualTo(patient.resourceCount());
            files.put("status.json", status);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    @Override
    protected Fault fatalAnswer() {
        return Fault.json(403, "{\"statusCode\":403,\"message\":\"Forbidden resource\",\"error\":\"Forbidden\"}");
    }

    /** HealthEx answers errors like a NestJS service: {statusCode, message, error}. */
    @Override
    protected Fault transientAnswer(int code) {
        return Fault.json(code, "{\"statusCode\":" + code + ",\"message\":\"Injected\",\"error\":\""
                + (code == 429 ? "Too Many Requests" : "Service Unavailable") + "\"}");
    }

    @Override
    protected Fault malformedStatus() {
        return Fault.json(200, "{\"retrievalId\": \"batch-mx\", \"locations\": ");
    }

    /** The next export's own retrieval with an overall status the docs do not list. */
    @Override
    protected Fault unknownStatus() {
        return Fault.json(200, "{\"patientId\":\"" + patientId(exports.get() + 1) + "\",\"retrievalId\":\""
                + retrievalId(exports.get() + 1) + "\",\"dataRetrievalStatus\":\"" + unknownStatusLabel() + "\","
                + "\"vectorizationStatus\":\"IN_PROGRESS\",\"createdAt\":\"" + Instant.now() + "\",\"locations\":[]}");
    }

    @Override
    protected String unknownStatusLabel() {
        return "ON_HOLD";
    }

    /** Researcher and patient tokens alike. */
    @Override
    protected void expireTokens() {
        sandbox.expireTokens();
    }

    @Override
    protected int tokensIssued() {
        return sandbox.tokensIssued();
    }

    /**
     * $everything returns the patient's current records, nothing at HealthEx expires; a 410 on a page is a FHIR
     * server's paging that expired (docs/healthex.md): the pull starts again from the first page, at most three
     * times, then the job ends EXPIRED. (A 404 is the patient no longer visible: FAILED, HealthexRouteTest.)
     */
    @Override
    protected Fault expiredFileAnswer() {
        return Fault.operationOutcome(410, "not-found", "Search has expired");
    }

    @Override
    protected JobState expiredOutcome() {
        return JobState.EXPIRED;
    }

    @Override
    protected String expiredReason() {
        return "no longer available";
    }

    /**
     * Row 6/7 as HealthEx has it: the pull writes each NDJSON file while it transforms $everything, before the job
     * is READY, so a target outage is waited out RUNNING (HealthEx's status COMPLETE) and the pull is repeated
     * once the target is back.
     */
    @Override
    protected JobState stateWhileTargetIsDown() {
        return JobState.RUNNING;
    }

    /** The same patient asked for again while its job is in flight: that job (docs/healthex.md, Triggers). */
    @Override
    protected String adoptionRequest(ExportJob job) {
        return adoption(job.attribute(HealthexJobs.PATIENT_ID));
    }
}
