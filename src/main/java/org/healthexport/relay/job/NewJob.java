package org.healthexport.relay.job;

import java.util.Map;

/**
 * A job to create or adopt. {@code dedupKey} makes adoption idempotent: the same vendor job
 * (its status URL, or its id when it has no URL) adopted twice is one job.
 */
public record NewJob(String sourceId, String kind, String vendorJobId, String statusUrl, String requestUrl,
                     Map<String, String> attributes) {

    public String dedupKey() {
        String identity = statusUrl != null ? "url:" + statusUrl
                : vendorJobId != null ? "id:" + vendorJobId
                : "attrs:" + new java.util.TreeMap<>(attributes);
        return Hashes.sha256Hex(identity);
    }
}
