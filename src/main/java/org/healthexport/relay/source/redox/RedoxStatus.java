package org.healthexport.relay.source.redox;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobUpdate;
import org.healthexport.relay.source.fhir.BulkManifest;
import org.healthexport.relay.source.fhir.FhirBulkStatus;
import org.healthexport.relay.source.fhir.MalformedStatusException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads Redox's "FHIR Bulk Data Access" status answers: the {@code status-check-response} envelope
 * ({@code Meta} with DataModel, EventType, EventDateTime, Test, Source, Destinations, Logs; then {@code status},
 * {@code progress}, and once complete the Bulk Data manifest fields {@code output}, {@code transactionTime},
 * {@code request}, {@code requiresAccessToken}), or a plain HL7 answer (202 with X-Progress, 200 manifest).
 * The manifest is planned and delivered by the generic {@code fhirBulkStatus}.
 */
public class RedoxStatus {
    static final String DATA_MODEL = "FHIR Bulk Data Access";
    private final JobLifecycle jobs;
    private final FhirBulkStatus manifests;
    private final ObjectMapper json = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public RedoxStatus(JobLifecycle jobs, FhirBulkStatus manifests) {
        this.jobs = jobs;
        this.manifests = manifests;
    }

    /**
     * Route step on a 2xx status answer: the body (envelope, manifest or nothing) becomes a {@link RedoxStatusCheck}.
     * The route's {@code boundedAnswer} step has already read it into memory, refused beyond
     * relay.http.max-status-bytes.
     */
    public RedoxStatusCheck read(@Header(Exchange.HTTP_RESPONSE_CODE) int code, @Header("X-Progress") String xProgress,
                                 @Body byte[] body) {
        String text = body == null ? "" : new String(body, StandardCharsets.UTF_8).trim();
        if (text.isEmpty()) {
            if (code == 200) {
                throw new MalformedStatusException("Redox answered 200 without a status body");
            }
            return new RedoxStatusCheck(String.valueOf(code), xProgress, null, List.of(), List.of(), null, false);
        }
        JsonNode root;
        try {
            root = json.readTree(text);
        } catch (IOException e) {
            throw new MalformedStatusException("Redox status body is not JSON: " + e.getClass().getSimpleName());
        }
        if (root == null || !root.isObject()) {
            throw new MalformedStatusException("Redox status body is not a JSON object");
        }
        JsonNode meta = root.path("Meta");
        boolean envelope = meta.isObject();
        List<String> logIds = new ArrayList<>();
        List<String> attemptIds = new ArrayList<>();
        for (JsonNode log : meta.path("Logs")) {
            if (log.hasNonNull("ID")) {
                logIds.add(log.path("ID").asText());
            }
            if (log.hasNonNull("AttemptID")) {
                attemptIds.add(log.path("AttemptID").asText());
            }
        }
        String status;
        if (root.hasNonNull("status")) {
            status = root.path("status").asText().trim();
        } else if (!envelope && (root.has("output") || root.has("transactionTime"))) {
            status = "200"; // a plain HL7 manifest
        } else {
            status = String.valueOf(code);
        }
        String progress = root.hasNonNull("progress") ? root.path("progress").asText() : xProgress;
        BulkManifest manifest = null;
        if (status.equals("200")) {
            try {
                manifest = json.treeToValue(root, BulkManifest.class);
            } catch (IOException e) {
                throw new MalformedStatusException("Redox status body has no readable manifest: "
                        + e.getClass().getSimpleName());
            }
        }
        return new RedoxStatusCheck(status, progress, manifest, logIds, attemptIds,
                envelope ? meta.path("EventType").asText(null) : null, envelope);
    }

    /**
     * Keeps the answer's {@code Meta.Logs[].ID} on the job (attribute {@code logId}, and {@code requestId}), for
     * Redox support; the body is left alone.
     */
    public void remember(@ExchangeProperty("job") ExportJob job, @Body RedoxStatusCheck check, Exchange exchange) {
        if (check.logIds().isEmpty()) {
            return;
        }
        String logId = String.join(",", check.logIds());
        JobUpdate u = JobUpdate.keepState().requestId(check.logIds().get(0)).attribute("logId", logId);
        if (!check.attemptIds().isEmpty()) {
            u.attribute("logAttemptId", String.join(",", check.attemptIds()));
        }
        exchange.setProperty("job", jobs.note(job, u));
    }

    /** Status 200: the manifest in the envelope (or the plain one) is planned, the job READY. */
    public ExportJob complete(@ExchangeProperty("job") ExportJob job, @Body RedoxStatusCheck check,
                              @Header("Expires") String expires) throws IOException {
        if (check.manifest() == null) {
            throw new MalformedStatusException(check.describe() + " without a manifest");
        }
        return manifests.complete(job, check.manifest(), expires);
    }

    /** A status of 400 or above in the envelope: the job ends with Redox's status and log ids. */
    public ExportJob failed(@ExchangeProperty("job") ExportJob job, @Body RedoxStatusCheck check) {
        return jobs.failAnswer(job, check.code(), check.describe());
    }
}
