package org.healthexport.relay.source.ehealth;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.faults.FaultMatrix;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.sandbox.EhealthSandbox;
import org.healthexport.relay.sandbox.ScriptedFaults.Fault;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fault matrix on the ehealth-jobs kind: a job the MIS submitted is adopted ({@code POST /api/jobs}), polled
 * at {@code GET /api/jobs/{id}} (STATUS: pending with an eta, then 303 processed with links) and its five linked
 * entities fetched (FILE), to a folder. The source holds only a refresh token (with the MIS client's id and
 * secret): every access token is one the sandbox's Mithril issued, so expiring them exercises the renewal.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:matrix-ehealth-jobs;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/matrix-ehealth-jobs",
        "relay.sandbox.enabled=true",
        "relay.sandbox.ehealth-jobs.api-key=matrix-api-key",
        "relay.sandbox.ehealth-jobs.client-id=matrix-mis",
        "relay.sandbox.ehealth-jobs.client-secret=matrix-mis-secret",
        "relay.sandbox.ehealth-jobs.refresh-token=matrix-refresh-token",
        "relay.poll.initial-wait=200ms",
        "relay.poll.min-wait=100ms",
        "relay.http.response-timeout-ms=1500",
        "relay.http.max-status-bytes=65536",
        "relay.sources.esoz.kind=ehealth-jobs",
        "relay.sources.esoz.base-url={{relay.sandbox.ehealth-jobs.url}}",
        "relay.sources.esoz.auth.refresh-token=matrix-refresh-token",
        "relay.sources.esoz.auth.client-id=matrix-mis",
        "relay.sources.esoz.auth.client-secret=matrix-mis-secret",
        "relay.sources.esoz.auth.api-key=matrix-api-key"
})
class EhealthFaultMatrixTest extends FaultMatrix {
    static final Path OUTBOX = Path.of("target/test-outbox/matrix-ehealth-jobs");
    private final ObjectMapper json = new ObjectMapper();

    @Override
    protected String kind() {
        return EhealthKind.NAME;
    }

    @Override
    protected EhealthSandbox sandbox() {
        return context.getRegistry().lookupByNameAndType("ehealth-jobs-sandbox", EhealthSandbox.class);
    }

    @Override
    protected Path outbox() {
        return OUTBOX;
    }

    /** The MIS hands the relay the id of a job eHealth answered 202 with: pending for two polls, then 303. */
    @Override
    protected ExportJob startExport() throws Exception {
        String jobId = sandbox().processedWithLinks(2, 1);
        HttpResponse<String> adopted = api("POST", "/api/jobs", "{\"source\":\"esoz\",\"jobId\":\"" + jobId + "\"}");
        assertThat(adopted.statusCode()).as(adopted.body()).isEqualTo(201);
        return store.get(json.readTree(adopted.body()).path("id").asText());
    }

    /** One {@code <entity>/<id>.json} per link, the entity's body as the sandbox served it. */
    @Override
    protected Map<String, byte[]> expectedFiles(ExportJob job) {
        EhealthSandbox sandbox = sandbox();
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (EhealthSandbox.Link link : sandbox.links(job.vendorJobId())) {
            String href = link.href().replace("{host}", "");
            String path = href.startsWith("/") ? href : URI.create(href).getPath();
            files.put(link.entity() + "/" + path.substring(path.lastIndexOf('/') + 1) + ".json", sandbox.entity(path));
        }
        return files;
    }

    /** eHealth's error envelope: {@code meta} with the code and request_id, {@code error} with type and message. */
    static String envelope(int code, String type, String message) {
        return "{\"meta\":{\"code\":" + code + ",\"url\":\"https://api.ehealth.gov.ua/api/jobs\",\"type\":\"object\","
                + "\"request_id\":\"req-injected-" + code + "\"},\"error\":{\"type\":\"" + type + "\",\"message\":\""
                + message + "\"}}";
    }

    @Override
    protected Fault fatalAnswer() {
        return Fault.json(403, envelope(403, "forbidden", "Access denied"));
    }

    @Override
    protected Fault transientAnswer(int code) {
        return code == 429 ? Fault.json(429, envelope(429, "too_many_requests", "Too many requests"))
                : Fault.json(code, envelope(code, "internal_error", "Service unavailable"));
    }

    /** A 200 whose body breaks off: not the job envelope. */
    @Override
    protected Fault malformedStatus() {
        return Fault.json(200, "{\"data\":{\"status\":\"pending\",\"eta\":");
    }

    /** The job schema's status enum is pending, processed, failed (and failed_with_error in the store). */
    @Override
    protected Fault unknownStatus() {
        return Fault.json(200, "{\"data\":{\"status\":\"paused\",\"eta\":\"2030-01-01T00:00:00.000Z\"},"
                + "\"meta\":{\"code\":200,\"url\":\"https://api.ehealth.gov.ua/api/jobs\",\"type\":\"object\","
                + "\"request_id\":\"req-injected-paused\"}}");
    }

    @Override
    protected String unknownStatusLabel() {
        return "paused";
    }

    /** Mithril's access tokens expire (expires_at); the relay renews with the refresh token. */
    @Override
    protected void expireTokens() {
        sandbox().expireIssuedTokens();
    }

    @Override
    protected int tokensIssued() {
        return sandbox().tokensIssued();
    }

    /**
     * eHealth does not document entities expiring; a created entity that answers 404 (its error envelope) is no
     * longer readable with this token. The relay polls the job again for its links (eHealth gives the same
     * ones), at most three times, then ends the job EXPIRED without a receipt (docs/ehealth.md, Entity links).
     */
    @Override
    protected Fault expiredFileAnswer() {
        return Fault.json(404, envelope(404, "not_found", "Encounter not found"));
    }

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
        return "{\"source\":\"esoz\",\"jobId\":\"" + job.vendorJobId() + "\"}";
    }
}
