package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.ExchangeProperty;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobUpdate;
import org.healthexport.relay.notify.Notifier;
import org.healthexport.relay.source.fhir.MalformedStatusException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The data-retrieval status step of a HealthEx job (patient token): reads the status, tells which retrieval it
 * describes, records what the route found for each location, and moves the job on: keep polling with backoff
 * (IN_PROGRESS, or no retrieval yet for a bounded time), or pull the records (COMPLETE), reporting the
 * locations that lost data and a failed vectorization.
 */
public class RetrievalWatch {
    private static final Logger LOG = LoggerFactory.getLogger(RetrievalWatch.class);
    static final String NO_RETRIEVAL_SINCE = "noRetrievalSince";
    static final String PREVIOUS_RETRIEVAL = "previousRetrievalId";
    static final String REPORTED_RETRIEVAL = "incompleteReported";
    static final String LOST_LOCATIONS = "locationsWithLostData";
    static final String VECTORIZATION = "vectorizationStatus";

    private final Map<String, HealthexSource> sources;
    private final JobLifecycle jobs;
    private final Notifier notifier;
    private final ObjectMapper json = new ObjectMapper();

    public RetrievalWatch(Map<String, HealthexSource> sources, JobLifecycle jobs, Notifier notifier) {
        this.sources = sources;
        this.jobs = jobs;
        this.notifier = notifier;
    }

    public String url(@ExchangeProperty("job") ExportJob job) {
        return sources.get(job.sourceId()).statusUrl().toString();
    }

    /**
     * Reads a 200 answer; a body that is not the documented JSON is polled again with backoff. The route's
     * {@code boundedAnswer} step has already refused a body beyond relay.http.max-status-bytes.
     */
    public RetrievalStatus read(InputStream body) {
        JsonNode root;
        try (InputStream in = body) {
            root = json.readTree(in);
        } catch (IOException e) {
            throw new MalformedStatusException("Data-retrieval status is not the documented JSON: "
                    + e.getClass().getSimpleName());
        }
        if (root == null || !root.isObject()) {
            throw new MalformedStatusException("Data-retrieval status is not a JSON object");
        }
        return RetrievalStatus.of(root);
    }

    /**
     * True when the status still describes a retrieval older than the one this job started (HealthEx shows the
     * latest retrieval whose document selection is complete, which may lag behind {@code $updateData}):
     * <ul>
     * <li>{@code $updateData} named the job's retrieval: another one is newer (the patient shared again) only
     * when created clearly after the job asked ({@code older-retrieval-skew} allows for clocks); else it is older;</li>
     * <li>{@code $updateData} named none: the first retrieval created since the job asked (give or take the skew)
     * is the job's; one created before is older;</li>
     * <li>an adopted retrieval: the status shows the latest retrieval, never an older one.</li>
     * </ul>
     */
    public boolean isOlderRetrieval(@ExchangeProperty("job") ExportJob job,
                                    @ExchangeProperty("retrieval") RetrievalStatus retrieval) {
        String expected = job.attribute(HealthexJobs.RETRIEVAL_ID);
        if (retrieval.retrievalId() != null && retrieval.retrievalId().equals(expected)) {
            return false;
        }
        if (job.attribute(HealthexJobs.UPDATE_AT) == null) {
            return false;
        }
        Instant asked = reference(job);
        Duration skew = sources.get(job.sourceId()).olderRetrievalSkew();
        if (expected != null) {
            return retrieval.created().map(created -> !created.isAfter(asked.plus(skew))).orElse(true);
        }
        return retrieval.created().map(created -> created.isBefore(asked.minus(skew))).orElse(false);
    }

    /** When this job asked for its retrieval: its $updateData, else its creation (an adopted retrieval). */
    static Instant reference(ExportJob job) {
        String at = job.attribute(HealthexJobs.UPDATE_AT);
        return at != null ? Instant.parse(at) : job.createdAt();
    }

    /** The status shows an earlier retrieval: wait for this job's, bounded like "no retrieval yet". */
    public ExportJob olderRetrieval(@ExchangeProperty("job") ExportJob job,
                                    @ExchangeProperty("retrieval") RetrievalStatus retrieval) {
        return waitForRetrieval(job, "the data-retrieval status still shows the earlier retrieval "
                + retrieval.retrievalId(), "OLDER_RETRIEVAL");
    }

    /** 404: HealthEx has no retrieval for the patient yet; wait with backoff, at most no-retrieval-timeout. */
    public ExportJob noRetrievalYet(@ExchangeProperty("job") ExportJob job) {
        return waitForRetrieval(job, "no data retrieval yet (HTTP 404)", "NO_RETRIEVAL");
    }

    private ExportJob waitForRetrieval(ExportJob job, String what, String vendorStatus) {
        HealthexSource source = sources.get(job.sourceId());
        Instant now = jobs.store().now();
        Instant since = job.attribute(NO_RETRIEVAL_SINCE) == null ? now
                : Instant.parse(job.attribute(NO_RETRIEVAL_SINCE));
        if (Duration.between(since, now).compareTo(source.noRetrievalTimeout()) > 0) {
            return jobs.fail(job, "No data retrieval of patient " + job.attribute(HealthexJobs.PATIENT_ID)
                    + " appeared within " + source.noRetrievalTimeout() + " (" + what + "); the patient may not "
                    + "have completed document selection, or the retrieval was aborted");
        }
        ExportJob marked = jobs.store().update(job, jobs.owner(),
                JobUpdate.keepState().attribute(NO_RETRIEVAL_SINCE, since.toString()), false);
        return jobs.stillRunning(marked, null, what, vendorStatus);
    }

    /**
     * The status describes this job's retrieval, or a newer one (the patient shared again): the job follows it.
     * A changed retrievalId changes the job's folder, so an earlier delivery is never overwritten.
     */
    public ExportJob follow(@ExchangeProperty("job") ExportJob job,
                            @ExchangeProperty("retrieval") RetrievalStatus retrieval) {
        String current = job.attribute(HealthexJobs.RETRIEVAL_ID);
        JobUpdate u = JobUpdate.keepState().attribute(NO_RETRIEVAL_SINCE, null);
        if (retrieval.retrievalId() != null && !retrieval.retrievalId().equals(current)) {
            if (current != null) {
                LOG.info("Job {}: patient {} has a newer retrieval {} (was {}); following it", job.id(),
                        job.attribute(HealthexJobs.PATIENT_ID), retrieval.retrievalId(), current);
                u.attribute(PREVIOUS_RETRIEVAL, current);
            }
            u.attribute(HealthexJobs.RETRIEVAL_ID, retrieval.retrievalId()).vendorJobId(retrieval.retrievalId());
        }
        boolean changed = retrieval.retrievalId() != null && !retrieval.retrievalId().equals(current);
        if (!changed && job.attribute(NO_RETRIEVAL_SINCE) == null) {
            return job;
        }
        return jobs.store().update(job, jobs.owner(), u, false);
    }

    /** A new, empty report for this poll; the route adds each location. */
    public LocationReport report(@ExchangeProperty("retrieval") RetrievalStatus retrieval) {
        return LocationReport.of(retrieval);
    }

    // ---- one call per location outcome, from the route's choice on the location's status ---------------------

    public void retrieved(@ExchangeProperty("report") LocationReport report, RetrievalStatus.Location location) {
        report.add(location, LocationReport.RETRIEVED, null);
    }

    public void pending(@ExchangeProperty("report") LocationReport report, RetrievalStatus.Location location) {
        report.add(location, LocationReport.PENDING, null);
    }

    public void partial(@ExchangeProperty("report") LocationReport report, RetrievalStatus.Location location) {
        report.add(location, LocationReport.LOST, "some documents were retrieved, but the process encountered "
                + "issues: the location's data is partial");
    }

    public void skipped(@ExchangeProperty("report") LocationReport report, RetrievalStatus.Location location) {
        report.add(location, LocationReport.LOST, "the location was skipped (e.g. the patient opted out): "
                + "none of its data is included");
    }

    public void error(@ExchangeProperty("report") LocationReport report, RetrievalStatus.Location location) {
        report.add(location, LocationReport.LOST, "an error occurred during retrieval from this location: its "
                + "data is missing");
    }

    public void unknownLocationStatus(@ExchangeProperty("report") LocationReport report,
                                      RetrievalStatus.Location location) {
        report.add(location, LocationReport.UNKNOWN, "status '" + location.dataRetrievalStatus()
                + "' is not one the HealthEx docs list; its data may be incomplete");
    }

    public void vectorizationFailed(@ExchangeProperty("report") LocationReport report) {
        report.vectorizationFailed();
    }

    // ---- the overall status -----------------------------------------------------------------------------------

    /** IN_PROGRESS: poll again with backoff; the per-location summary is the job's progress. */
    public ExportJob inProgress(@ExchangeProperty("job") ExportJob job,
                                @ExchangeProperty("report") LocationReport report) {
        return jobs.stillRunning(job, null, report.summary(), RetrievalStatus.IN_PROGRESS);
    }

    /**
     * COMPLETE: the retrieval was finalized. Locations still pending count as lost; lost locations and a failed
     * vectorization are reported (job progress, status.json, one notification per retrieval), and the records
     * are pulled either way.
     */
    public ExportJob complete(@ExchangeProperty("job") ExportJob job,
                              @ExchangeProperty("report") LocationReport report) {
        report.finish();
        String retrieval = job.attribute(HealthexJobs.RETRIEVAL_ID);
        JobUpdate u = JobUpdate.keepState().vendorStatus(RetrievalStatus.COMPLETE).progress("COMPLETE; "
                        + report.summary()).attribute("unknownStatus", null).attribute("authRetried", null).attribute(LOST_LOCATIONS, report.problems().isEmpty() ? null
                        : String.join(",", report.problems().stream().map(e -> String.valueOf(e.locationId())).toList()))
                .attribute(VECTORIZATION, report.isVectorizationFailed() ? RetrievalStatus.FAILED : null);
        if (report.hasProblems()) {
            u.lastError("Retrieval " + retrieval + " completed with problems: " + report.summary());
            if (!String.valueOf(retrieval).equals(job.attribute(REPORTED_RETRIEVAL))) {
                u.attribute(REPORTED_RETRIEVAL, String.valueOf(retrieval));
                notifyIncomplete(job, report);
            }
        }
        return jobs.store().update(job, jobs.owner(), u, false);
    }

    private void notifyIncomplete(ExportJob job, LocationReport report) {
        StringBuilder reason = new StringBuilder("Retrieval ").append(job.attribute(HealthexJobs.RETRIEVAL_ID))
                .append(" of patient ").append(job.attribute(HealthexJobs.PATIENT_ID)).append(" completed");
        if (!report.problems().isEmpty()) {
            reason.append("; locations with lost data: ").append(report.problemList());
        }
        if (report.isVectorizationFailed()) {
            reason.append("; vectorization FAILED (the data is delivered; AI queries on it will not work)");
        }
        String action = report.problems().isEmpty()
                ? "The records are delivered; ask HealthEx about the failed vectorization if AI queries are needed"
                : "The records are delivered without the data of these locations (see status.json); trigger the "
                + "patient again later, or ask the patient to share again with the same HealthEx link";
        LOG.warn("Job {}: {}", job.id(), reason);
        notifier.notify(job, "INCOMPLETE_RETRIEVAL", reason.toString(), action);
    }

    /** 403: the token used is not a patient token (PATIENT or PATIENT_READ_ONLY). */
    public ExportJob wrongTokenType(@ExchangeProperty("job") ExportJob job) {
        return jobs.failAnswer(job, 403, "HealthEx answered 403 to the data-retrieval status of patient "
                + job.attribute(HealthexJobs.PATIENT_ID) + ": the login configured for this patient does not give a "
                + "patient token (PATIENT or PATIENT_READ_ONLY); configure the patient's own email and password "
                + "in the patients-file, or remove them to pull after pull-after");
    }
}
