package org.healthexport.relay.source.ehealth;

import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.job.NewJob;
import org.healthexport.relay.source.JobAdopter;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code POST /api/jobs} with {@code {"source": "<id>", "jobId": "<eHealth job id>"}} (optionally
 * {@code "patientId"}, kept for notifications): the job is polled at {@code {base-url}/api/jobs/{jobId}}.
 * The id is checked ({@link EhealthJobId}); the same job adopted twice, by the API or the inbox, is one job
 * (the store de-duplicates on its status URL, which the id alone decides).
 */
public class EhealthAdopter implements JobAdopter {

    @Override
    public NewJob adopt(SourceConfig source, Map<String, Object> request) {
        Object value = request.get("jobId");
        if (!(value instanceof String text)) {
            throw new IllegalArgumentException("An " + EhealthKind.NAME + " job is adopted with \"jobId\": the id of"
                    + " the eHealth async job (from the 202 answer to the package submission)");
        }
        Map<String, String> attributes = new LinkedHashMap<>();
        Object patient = request.get("patientId");
        if (patient != null) {
            if (!(patient instanceof String p) || !p.matches("[A-Za-z0-9_-]{1,64}")) {
                throw new IllegalArgumentException("patientId must be an id of letters, digits, '-' or '_'");
            }
            attributes.put("patientId", p);
        }
        return job(source, EhealthJobId.parse(text), "api", attributes);
    }

    /** The job to create for a checked eHealth job id. */
    static NewJob job(SourceConfig source, String jobId, String via, Map<String, String> extra) {
        Map<String, String> attributes = new LinkedHashMap<>(extra);
        attributes.put("requiresAccessToken", "true");
        attributes.put("adoptedVia", via);
        return new NewJob(source.id(), source.kind(), jobId, statusUrl(source, jobId).toString(), null, attributes);
    }

    /** {@code GET {base-url}/api/jobs/{id}} (the base URL may carry a gateway's path prefix). */
    static URI statusUrl(SourceConfig source, String jobId) {
        return source.requireBaseUrl().resolve(source.property("jobs-path", "api/jobs/").replaceFirst("^/", "")
                .replaceFirst("([^/])$", "$1/") + jobId);
    }
}
