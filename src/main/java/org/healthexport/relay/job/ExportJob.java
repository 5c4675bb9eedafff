package org.healthexport.relay.job;

import java.time.Instant;
import java.util.Map;

/**
 * One export at one source, as the store keeps it. Immutable: every change goes through {@link JobStore}.
 * {@code attributes} holds what only one vendor kind knows (a HealthEx retrievalId, a Redox log id...).
 */
public record ExportJob(
        String id,
        String sourceId,
        String kind,
        String vendorJobId,
        String statusUrl,
        JobState state,
        String vendorStatus,
        String progress,
        Instant nextPollAt,
        Instant deadlineAt,
        int attempts,
        String lastError,
        String requestId,
        Instant transactionTime,
        Instant expiresAt,
        String requestUrl,
        Map<String, String> attributes,
        Instant createdAt,
        Instant updatedAt) {

    public ExportJob {
        attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
    }

    /** The same job as known after a vendor answer carrying this request id (stored with the job's next change). */
    public ExportJob withRequestId(String vendorRequestId) {
        return new ExportJob(id, sourceId, kind, vendorJobId, statusUrl, state, vendorStatus, progress, nextPollAt,
                deadlineAt, attempts, lastError, vendorRequestId, transactionTime, expiresAt, requestUrl, attributes,
                createdAt, updatedAt);
    }

    public String attribute(String name) {
        return attributes.get(name);
    }

    public boolean isAwaitingStatus() {
        return state.isAwaitingStatus();
    }

    public boolean isAwaitingDelivery() {
        return state.isAwaitingDelivery();
    }
}
