package org.healthexport.relay.source.ehealth;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * One poll of {@code GET /api/jobs/{id}} as the status route routes on it: the HTTP code, {@code data.status}
 * (lower-cased), {@code meta.request_id}, the eta, the created entities' links, {@code status_code}, the error,
 * and, when the job answered with {@code response_data}, that value's exact bytes as eHealth sent them.
 */
public record EhealthJobStatus(int httpCode, String status, String requestId, String etaText, Instant eta,
                               List<JobEnvelope.Link> links, String statusCode, EhealthError error,
                               byte[] responseData, String bodySnippet) {

    public EhealthJobStatus {
        status = status == null || status.isBlank() ? null : status.strip().toLowerCase(Locale.ROOT);
        links = links == null ? List.of() : List.copyOf(links);
        error = error == null ? EhealthError.NONE : error;
    }

    public boolean hasResponseData() {
        return responseData != null;
    }

    /** What the route passes to {@code jobs.unknownStatus}: the status, or what came instead. */
    public String statusLabel() {
        return status != null ? status : "(no data.status; HTTP " + httpCode + ")";
    }

    /** {@code HTTP 503 (request_id r-1): internal_error: ...}: for retry reasons and failures, never a secret. */
    public String summary() {
        StringBuilder sb = new StringBuilder("HTTP ").append(httpCode);
        if (requestId != null) {
            sb.append(" (request_id ").append(requestId).append(')');
        }
        if (!error.isEmpty()) {
            sb.append(": ").append(error.describe());
        } else if (bodySnippet != null && !bodySnippet.isBlank()) {
            sb.append(": ").append(bodySnippet);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "EhealthJobStatus[http " + httpCode + ", status " + status + ", request_id " + requestId + ", eta "
                + etaText + ", links " + links.size() + ", status_code " + statusCode + "]";
    }
}
