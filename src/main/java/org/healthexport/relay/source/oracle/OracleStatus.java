package org.healthexport.relay.source.oracle;

import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobUpdate;
import org.healthexport.relay.source.KickoffSchedule;
import org.healthexport.relay.source.fhir.StatusError;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Oracle Health's answers mapped onto the job: the {@code opc-request-id} of every answer kept for support,
 * a throttled kick-off (429: one export per client and tenant) retried after Retry-After, files past their
 * {@code Expires} (Oracle deletes them 30 days after the export) and unknown jobs ended with a clear reason.
 * The Bulk Data manifest itself is read by the generic {@code fhirBulkStatus}.
 */
public class OracleStatus {
    static final String RETENTION = "Oracle deletes export files 30 days after the export";
    private final Sources sources;
    private final JobLifecycle jobs;
    private final KickoffSchedule schedule;

    public OracleStatus(Sources sources, JobLifecycle jobs, KickoffSchedule schedule) {
        this.sources = sources;
        this.jobs = jobs;
        this.schedule = schedule;
    }

    /**
     * After every call to Oracle: its {@code opc-request-id} (or {@code X-Request-Id}) goes on the job
     * ({@code requestId}, shown by the API, in receipts, notifications and log lines) and in the exchange
     * property {@code requestId}. The body is left alone.
     */
    public void keepRequestId(@ExchangeProperty("job") ExportJob job, @Header("opc-request-id") String opcRequestId,
                              @Header("X-Request-Id") String xRequestId, Exchange exchange) {
        String id = opcRequestId != null && !opcRequestId.isBlank() ? opcRequestId.trim()
                : xRequestId != null && !xRequestId.isBlank() ? xRequestId.trim() : null;
        exchange.setProperty("requestId", id == null ? "none" : id);
        if (id != null && job != null && !id.equals(job.requestId())) {
            exchange.setProperty("job", jobs.note(job, JobUpdate.keepState().requestId(id)));
        }
    }

    /** True when the manifest's {@code Expires} has passed: the files are gone, or about to be. */
    public boolean filesExpired(@Header("Expires") String expires) {
        Instant at = parseExpires(expires);
        return at != null && !at.isAfter(jobs.store().now());
    }

    /** A complete export whose files expired: EXPIRED, with when and why. */
    public ExportJob expired(@ExchangeProperty("job") ExportJob job, @Header("Expires") String expires) {
        return jobs.end(job, JobState.EXPIRED, "The export's files expired at " + expires + " (" + RETENTION
                + "); start a new export");
    }

    /**
     * A 404 (or 410) on the status URL: a job that had a manifest lost its files (expired, or deleted); a job
     * never seen complete is not Oracle's, or no longer.
     */
    public ExportJob notFound(@ExchangeProperty("job") ExportJob job, @Body StatusError error) {
        boolean hadFiles = job.transactionTime() != null || job.expiresAt() != null;
        if (hadFiles) {
            return jobs.end(job, JobState.EXPIRED, "Oracle no longer has export " + job.vendorJobId() + " ("
                    + error.text() + "): its files expired or it was deleted (" + RETENTION + ")");
        }
        return jobs.failAnswer(job, error.httpCode(), "Oracle does not know export " + job.vendorJobId() + " (" + error.text() + "): a wrong"
                + " Job_ID, an export of another client, or one deleted or expired (" + RETENTION + ")");
    }

    /** A kick-off answered 429 throttled: an export already runs for this client and tenant; asked again later. */
    public ExportJob throttled(@ExchangeProperty("job") ExportJob job, @Header("Retry-After") String retryAfter,
                               @Body StatusError error) {
        return jobs.retryAnswer(job, retryAfter, error.httpCode(), "Kick-off throttled (" + error.text() + "): an export is already "
                + "running for this client and tenant; the kick-off is sent again later");
    }

    /** A queued kick-off whose client and tenant still have an export running: it waits its turn. */
    public ExportJob waitTurn(@ExchangeProperty("job") ExportJob job) {
        List<ExportJob> ahead = schedule.blocking(job.sourceId(), job.id());
        String reason = "Kick-off waits: Oracle runs one export per client and tenant, and "
                + ahead.stream().map(j -> "job " + j.id() + " of source " + j.sourceId()).collect(Collectors.joining(", "))
                + " is ahead";
        Duration wait = sources.get(job.sourceId()).duration("kickoff-wait", "kickoff.wait", Duration.ofSeconds(30));
        return jobs.waitTurn(job, reason, wait);
    }

    static Instant parseExpires(String expires) {
        if (expires == null || expires.isBlank()) {
            return null;
        }
        try {
            return ZonedDateTime.parse(expires.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        } catch (RuntimeException e) {
            return null;
        }
    }
}
