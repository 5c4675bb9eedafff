package org.healthexport.relay.source.redox;

import org.healthexport.relay.source.fhir.BulkManifest;

import java.util.List;

/**
 * One Redox {@code status-check-response}, or a plain Bulk Data status answer: the status the route switches on
 * ({@code "202"} running, {@code "200"} complete, anything else kept as given), the progress text, the manifest
 * when complete, and the {@code Meta.Logs[]} ids Redox support asks for.
 */
public record RedoxStatusCheck(String status, String progress, BulkManifest manifest, List<String> logIds,
                               List<String> attemptIds, String eventType, boolean envelope) {

    public RedoxStatusCheck {
        logIds = logIds == null ? List.of() : List.copyOf(logIds);
        attemptIds = attemptIds == null ? List.of() : List.copyOf(attemptIds);
    }

    /**
     * Status {@code 200} exactly: the export is complete. The route asks this rather than compare in Simple, whose
     * {@code ==} reads "0200" or "２００" as the number 200.
     */
    public boolean isComplete() {
        return "200".equals(status);
    }

    /** Status {@code 202} exactly: the export is still running. */
    public boolean isRunning() {
        return "202".equals(status);
    }

    /** A status of 400 or above inside the envelope. */
    public boolean isError() {
        return code() >= 400;
    }

    /** An error status that may pass: 408, 429 or 5xx. */
    public boolean isTransient() {
        int c = code();
        return c == 408 || c == 429 || c >= 500;
    }

    /** The status as a number (an envelope's error status stands for the HTTP code of the answer); -1 if none. */
    public int code() {
        try {
            return Integer.parseInt(status.trim());
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** For logs and job errors. */
    public String describe() {
        return "Redox " + (envelope ? eventType + " " : "") + "status " + status
                + (logIds.isEmpty() ? "" : " (Redox log " + String.join(", ", logIds) + ")");
    }
}
