package org.healthexport.relay.job;

import java.util.Map;
import java.util.TreeMap;

/**
 * A job to create or adopt. {@code dedupKey} makes adoption idempotent: the same vendor job
 * (its status URL, or its id when it has no URL) adopted twice is one job.
 * <p>
 * A job may instead hold a {@code slot} of its source while it is active ({@link #holdingSlot}): the store keeps
 * one job per source and key, so no second job holding the same slot can be created, by any replica, until the
 * first ends and the store releases the slot ({@link JobStore#update}).
 */
public record NewJob(String sourceId, String kind, String vendorJobId, String statusUrl, String requestUrl,
                     Map<String, String> attributes, String slot) {
    /** What a slot's key starts with, in the store: an ending job's key is replaced only when it holds one. */
    static final String SLOT_KEY = "slot:";

    public NewJob(String sourceId, String kind, String vendorJobId, String statusUrl, String requestUrl,
                  Map<String, String> attributes) {
        this(sourceId, kind, vendorJobId, statusUrl, requestUrl, attributes, null);
    }

    /** The same job, holding {@code slot} (e.g. one patient's) for as long as it is active. */
    public NewJob holdingSlot(String slot) {
        return new NewJob(sourceId, kind, vendorJobId, statusUrl, requestUrl, attributes, slot);
    }

    public String dedupKey() {
        if (slot != null) {
            return SLOT_KEY + Hashes.sha256Hex(slot);
        }
        String identity = statusUrl != null ? "url:" + statusUrl
                : vendorJobId != null ? "id:" + vendorJobId
                : "attrs:" + new TreeMap<>(attributes);
        return Hashes.sha256Hex(identity);
    }
}
