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

    /**
     * The id's hash: equal jobs have equal ids, so this keeps the contract with the record's {@code equals}. Camel
     * hashes the job at every {@code ${exchangeProperty.job.x}} in a route (its bean-info cache key holds the
     * instance); the record's own hashCode would hash all nineteen components each time, through a method-handle
     * chain that the JDK spins, about sixty classes, during a relay's first job (see docs/benchmarks.md).
     */
    @Override
    public int hashCode() {
        return id == null ? 0 : id.hashCode();
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
