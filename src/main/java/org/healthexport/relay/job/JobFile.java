package org.healthexport.relay.job;

import java.time.Instant;

/**
 * A file a job must deliver: where it comes from, the key it lands under, and, once delivered, what landed.
 * {@code group} is the manifest list it came from (output, error, deleted) or a kind's own (entity, bundle);
 * {@code note} says what the delivery noticed about the bytes (NDJSON lines over the limit), for the receipt.
 */
public record JobFile(
        long id,
        String jobId,
        int seq,
        String group,
        String type,
        String url,
        String targetKey,
        Long bytes,
        String sha256,
        Instant deliveredAt,
        String note) {

    public boolean isDelivered() {
        return deliveredAt != null;
    }

    /** A file not stored yet: the store gives it its id. */
    public static JobFile planned(int seq, String group, String type, String url, String targetKey) {
        return new JobFile(0, null, seq, group, type, url, targetKey, null, null, null, null);
    }
}
