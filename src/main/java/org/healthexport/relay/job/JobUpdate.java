package org.healthexport.relay.job;

import org.healthexport.relay.http.Redaction;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** The fields one step changes on a job; anything left unset keeps its stored value. */
public final class JobUpdate {
    JobState state;
    String vendorJobId;
    String statusUrl;
    String vendorStatus;
    String progress;
    Instant nextPollAt;
    Integer attempts;
    String lastError;
    boolean clearLastError;
    String requestId;
    Instant transactionTime;
    Instant expiresAt;
    String requestUrl;
    String dedupKey;
    final Map<String, String> attributes = new LinkedHashMap<>();

    public static JobUpdate to(JobState state) {
        JobUpdate update = new JobUpdate();
        update.state = state;
        return update;
    }

    public static JobUpdate keepState() {
        return new JobUpdate();
    }

    public JobUpdate state(JobState value) { this.state = value; return this; }
    public JobUpdate vendorJobId(String value) { this.vendorJobId = value; return this; }
    public JobUpdate statusUrl(String value) { this.statusUrl = value; return this; }
    public JobUpdate vendorStatus(String value) { this.vendorStatus = truncate(value, 200); return this; }
    public JobUpdate progress(String value) { this.progress = truncate(value, 200); return this; }
    public JobUpdate nextPollAt(Instant value) { this.nextPollAt = value; return this; }
    public JobUpdate attempts(int value) { this.attempts = value; return this; }
    /** Stored and shown by the API, so URL secrets and credentials in it are redacted ({@link Redaction#text}). */
    public JobUpdate lastError(String value) { this.lastError = truncate(Redaction.text(value), 2000); return this; }
    public JobUpdate clearLastError() { this.clearLastError = true; return this; }
    public JobUpdate requestId(String value) { this.requestId = truncate(value, 200); return this; }
    public JobUpdate transactionTime(Instant value) { this.transactionTime = value; return this; }
    public JobUpdate expiresAt(Instant value) { this.expiresAt = value; return this; }
    public JobUpdate requestUrl(String value) { this.requestUrl = truncate(value, 2048); return this; }
    /** The job's identity for adoption: set when a queued kick-off learns its vendor job ({@link NewJob#dedupKey}). */
    public JobUpdate dedupKey(String value) { this.dedupKey = value; return this; }
    public JobUpdate attribute(String name, String value) { this.attributes.put(name, value); return this; }

    public JobState state() {
        return state;
    }

    /** The job's attributes after this update: set ones replaced, ones set to null removed. */
    Map<String, String> attributesOf(ExportJob job) {
        Map<String, String> merged = new LinkedHashMap<>(job.attributes());
        attributes.forEach((k, v) -> {
            if (v == null) {
                merged.remove(k);
            } else {
                merged.put(k, v);
            }
        });
        return merged;
    }

    /** The job as this update leaves it, instants as the store keeps them; anything unset keeps the job's value. */
    ExportJob applyTo(ExportJob job, Map<String, String> newAttributes, Instant updatedAt) {
        return new ExportJob(job.id(), job.sourceId(), job.kind(),
                or(vendorJobId, job.vendorJobId()),
                or(statusUrl, job.statusUrl()),
                or(state, job.state()),
                or(vendorStatus, job.vendorStatus()),
                or(progress, job.progress()),
                or(JobStore.stored(nextPollAt), job.nextPollAt()),
                job.deadlineAt(),
                attempts != null ? attempts : job.attempts(),
                lastError != null ? lastError : clearLastError ? null : job.lastError(),
                or(requestId, job.requestId()),
                or(JobStore.stored(transactionTime), job.transactionTime()),
                or(JobStore.stored(expiresAt), job.expiresAt()),
                or(requestUrl, job.requestUrl()),
                newAttributes, job.createdAt(), updatedAt);
    }

    private static <T> T or(T value, T kept) {
        return value != null ? value : kept;
    }

    static String truncate(String value, int max) {
        return value == null || value.length() <= max ? value : value.substring(0, max - 1) + "…";
    }
}
