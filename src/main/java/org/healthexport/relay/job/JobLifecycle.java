package org.healthexport.relay.job;

import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;
import org.healthexport.relay.auth.AuthException;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.http.Backoff;
import org.healthexport.relay.http.FileUnavailableException;
import org.healthexport.relay.http.RetryAfter;
import org.healthexport.relay.http.UrlPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The job state machine as the routes drive it: each method is one outcome of one step (still running,
 * throttled, ready, failed...) and decides the job's next state and next poll time. Timing rules live here,
 * the flow lives in the YAML routes.
 */
public class JobLifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(JobLifecycle.class);
    /** How often an expired file link may be answered by fetching a fresh manifest before the job is EXPIRED. */
    static final int MAX_LINK_REFRESHES = 3;

    private final JobStore store;
    private final Sources sources;
    private final String owner;
    private final Duration lease;
    private final int batchSize;
    private final JobEvents events;
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.Map<String, Backoff> backoffs = new java.util.concurrent.ConcurrentHashMap<>();

    public JobLifecycle(JobStore store, Sources sources, String owner, Duration lease, int batchSize,
                        JobEvents events) {
        this.store = store;
        this.sources = sources;
        this.owner = owner;
        this.lease = lease;
        this.batchSize = batchSize;
        this.events = events;
    }

    public String owner() {
        return owner;
    }

    public JobStore store() {
        return store;
    }

    /** How long a claim holds a job. */
    public Duration lease() {
        return lease;
    }

    /**
     * Poll route: the due jobs this relay now holds a lease on, no more than its workers have room for, so a
     * claimed job never waits in a queue while its lease runs out.
     */
    public List<ExportJob> claimDue() {
        int room = batchSize - inFlight.get();
        if (room <= 0) {
            return List.of();
        }
        List<ExportJob> claimed = store.claimDue(owner, lease, room);
        inFlight.addAndGet(claimed.size());
        events.claimed(claimed.size());
        return claimed;
    }

    /**
     * Work route, first step: the job's id, source, kind and vendor request id go into the logging context, so
     * every log line about this job carries them (camel.main.use-mdc-logging carries them across threads).
     */
    public void logContext(@ExchangeProperty("job") ExportJob job) {
        org.slf4j.MDC.put("jobId", job.id());
        org.slf4j.MDC.put("jobSource", job.sourceId());
        org.slf4j.MDC.put("jobKind", job.kind());
        if (job.requestId() != null) {
            org.slf4j.MDC.put("jobVendorRequestId", job.requestId());
        } else {
            org.slf4j.MDC.remove("jobVendorRequestId");
        }
    }

    /** Work route, when done with a claimed job (whatever the outcome). */
    public void finished(@ExchangeProperty("job") ExportJob job) {
        inFlight.decrementAndGet();
        for (String key : new String[] {"jobId", "jobSource", "jobKind", "jobVendorRequestId"}) {
            org.slf4j.MDC.remove(key);
        }
    }

    public int inFlight() {
        return inFlight.get();
    }

    /** Extends the lease of a job in a long step (a large delivery). */
    public void keepLease(ExportJob job) {
        if (!store.renewLease(job.id(), owner, lease)) {
            throw new LeaseLostException(job.id());
        }
    }

    /** Creates a job from a kick-off or an adoption; returns the stored job (an existing one if adopted twice). */
    public JobStore.Adoption submit(NewJob job) {
        return submit(job, store.now());
    }

    /**
     * Same, first claimed at {@code firstPoll}: a kick-off queued as a job and sent by its creator right away
     * is not claimed by the poller meanwhile.
     */
    public JobStore.Adoption submit(NewJob job, Instant firstPoll) {
        SourceConfig source = sources.get(job.sourceId());
        Instant now = store.now();
        JobStore.Adoption adoption = store.adopt(job, JobState.SUBMITTED, firstPoll,
                now.plus(source.duration("deadline", "poll.deadline", Duration.ofHours(48))));
        if (adoption.created()) {
            LOG.info("Job {} created for {} (vendor job {})", adoption.job().id(), source, job.vendorJobId());
            events.stateChanged(adoption.job(), null, JobState.SUBMITTED, null);
        }
        return adoption;
    }

    /** Records what a step learnt (a vendor request id, a log id) without ending the step: the lease is kept. */
    public ExportJob note(ExportJob job, JobUpdate update) {
        return transition(job, update, false);
    }

    /**
     * A queued kick-off whose turn has not come (another export of its lock group runs): it waits without
     * counting an attempt, until the deadline.
     */
    public ExportJob waitTurn(ExportJob job, String reason, Duration wait) {
        if (pastDeadline(job)) {
            return fail(job, "Deadline passed; " + reason);
        }
        return transition(job, JobUpdate.keepState().vendorStatus("kick-off queued").lastError(reason)
                .nextPollAt(store.now().plus(wait)));
    }

    /** The vendor is still working: keep its progress text and wait as long as it asked. */
    public ExportJob inProgress(@ExchangeProperty("job") ExportJob job, @Header("Retry-After") String retryAfter,
                                @Header("X-Progress") String progress) {
        return stillRunning(job, retryAfter, progress, "in-progress");
    }

    /** Same as {@link #inProgress} for kinds whose progress and status are in the body. */
    public ExportJob stillRunning(ExportJob job, String retryAfter, String progress, String vendorStatus) {
        if (pastDeadline(job)) {
            return fail(job, "Deadline passed while the export was still " + vendorStatus);
        }
        Backoff backoff = backoff(job);
        Duration wait = backoff.next(RetryAfter.parse(retryAfter, store.now()), job.attempts());
        JobUpdate u = JobUpdate.to(JobState.RUNNING).vendorStatus(vendorStatus).progress(progress)
                .nextPollAt(store.now().plus(wait)).clearLastError().attribute("authRetried", null)
                .attribute("unknownStatus", null);
        // attempts counts consecutive polls without a server-given wait: it drives the exponential backoff
        u.attempts(retryAfter == null ? job.attempts() + 1 : 0);
        return transition(job, u);
    }

    /** 429 or a transient error: wait (Retry-After when given), count the attempt, keep the state. */
    public ExportJob retryLater(@ExchangeProperty("job") ExportJob job, @Header("Retry-After") String retryAfter,
                                String reason) {
        if (pastDeadline(job)) {
            return fail(job, "Deadline passed; last error: " + reason);
        }
        Duration wait = backoff(job).next(RetryAfter.parse(retryAfter, store.now()), job.attempts());
        events.retried(job, reason);
        LOG.warn("Job {} of source {}: {}; next try in {}{}", job.id(), job.sourceId(), reason, wait, requestIdText(job));
        return transition(job, JobUpdate.keepState().attempts(job.attempts() + 1).lastError(reason)
                .nextPollAt(store.now().plus(wait)));
    }

    /** A 401: fetch a new token and ask again at once, but only once in a row. */
    public ExportJob unauthorized(@ExchangeProperty("job") ExportJob job) {
        if ("true".equals(job.attribute("authRetried"))) {
            return fail(job, "HTTP 401 again after renewing the token: the credentials are refused");
        }
        events.tokenRenewed(job);
        return transition(job, JobUpdate.keepState().attribute("authRetried", "true").nextPollAt(store.now())
                .lastError("HTTP 401; token renewed"));
    }

    /**
     * A status value the relay does not know: the job is kept, flagged and polled with backoff until its
     * deadline, never dropped or taken as done.
     */
    public ExportJob unknownStatus(@ExchangeProperty("job") ExportJob job, String vendorStatus) {
        String reason = "Unknown status '" + vendorStatus + "' from the source; polling on with backoff";
        events.unknownStatus(job);
        if (pastDeadline(job)) {
            return fail(job, "Deadline passed; " + reason);
        }
        Duration wait = backoff(job).afterAttempt(job.attempts());
        return transition(job, JobUpdate.keepState().vendorStatus(vendorStatus).attempts(job.attempts() + 1)
                .lastError(reason).attribute("unknownStatus", vendorStatus).nextPollAt(store.now().plus(wait)));
    }

    /**
     * The vendor finished: its files are recorded with their keys and the job is handed to delivery. The lease
     * is kept: the status route goes on to {@code direct:deliver-job} in the same exchange, and a released READY
     * job would be claimed by the poller and delivered a second time alongside (should the route stop here, the
     * lease lapses and the poller delivers it).
     */
    public ExportJob ready(ExportJob job, List<JobFile> files, JobUpdate details) {
        store.planFiles(job.id(), files);
        return transition(job, details.state(JobState.READY).attempts(0).clearLastError()
                .nextPollAt(store.now()).attribute("linkRefreshes", job.attribute("linkRefreshes"))
                .attribute("readyAt", store.now().toString()), false); // readyAt: delivery latency metric
    }

    public ExportJob startDelivery(@ExchangeProperty("job") ExportJob job) {
        if (job.state() == JobState.DELIVERING) {
            return job;
        }
        return transition(job, JobUpdate.to(JobState.DELIVERING), false);
    }

    public ExportJob delivered(@ExchangeProperty("job") ExportJob job) {
        if (job.transactionTime() != null) {
            store.rememberTransactionTime(job.sourceId(), job.transactionTime());
        }
        return transition(job, JobUpdate.to(JobState.DELIVERED).attempts(0).clearLastError()
                .nextPollAt(store.now()));
    }

    public ExportJob fail(@ExchangeProperty("job") ExportJob job, String reason) {
        return end(job, JobState.FAILED, reason);
    }

    public ExportJob actionNeeded(ExportJob job, String reason) {
        return end(job, JobState.ACTION_NEEDED, reason);
    }

    public ExportJob end(ExportJob job, JobState state, String reason) {
        LOG.warn("Job {} of source {} ended {}: {}{}", job.id(), job.sourceId(), state, reason, requestIdText(job));
        return transition(job, JobUpdate.to(state).lastError(reason).nextPollAt(store.now()));
    }

    /**
     * Shared error handler of the routes: decides from the exception whether the job fails now (refused
     * credentials, a refused URL, bad configuration), needs a fresh manifest (an expired link), is another
     * relay's now (lease lost), or is retried with backoff (network, 5xx, target outage).
     */
    public void onError(@ExchangeProperty("job") ExportJob job, Exception error) {
        if (job == null) {
            LOG.error("Step failed outside any job: {}", error.toString());
            return;
        }
        ExportJob current = store.find(job.id()).orElse(job);
        if (error instanceof LeaseLostException) {
            LOG.warn("Job {}: lease lost to another relay; dropping this relay's work on it", job.id());
        } else if (error instanceof AuthException auth && auth.isPermanent()) {
            fail(current, auth.getMessage());
        } else if (error instanceof UrlPolicy.RefusedUrlException || error instanceof ConfigurationException) {
            fail(current, error.getMessage());
        } else if (error instanceof FileUnavailableException file && file.isExpiredLink()) {
            refreshLinks(current, file.getMessage());
        } else {
            retryLater(current, null, describe(error));
        }
    }

    /** A file link is gone or refused: ask the source for a fresh manifest, a bounded number of times. */
    public ExportJob refreshLinks(ExportJob job, String reason) {
        int refreshes = Integer.parseInt(Optional.ofNullable(job.attribute("linkRefreshes")).orElse("0"));
        if (refreshes >= MAX_LINK_REFRESHES) {
            return end(job, JobState.EXPIRED, "Export files are no longer available (" + reason + ") after "
                    + refreshes + " fresh manifests");
        }
        return transition(job, JobUpdate.to(JobState.RUNNING).lastError(reason + "; fetching a fresh manifest")
                .attribute("linkRefreshes", String.valueOf(refreshes + 1)).nextPollAt(store.now()));
    }

    /** The vendor's id of the last request (Oracle opc-request-id, Redox log id), for support, in log lines. */
    static String requestIdText(ExportJob job) {
        return job.requestId() == null ? "" : " (vendor request id " + job.requestId() + ")";
    }

    static String describe(Throwable error) {
        String message = error.getMessage();
        String text = error.getClass().getSimpleName() + (message == null ? "" : ": " + message);
        return text.length() > 500 ? text.substring(0, 500) + "…" : text;
    }

    public boolean pastDeadline(ExportJob job) {
        return job.deadlineAt() != null && store.now().isAfter(job.deadlineAt());
    }

    /** The source's waits, read once: every poll of every job needs them, and properties do not change at runtime. */
    private Backoff backoff(ExportJob job) {
        return backoffs.computeIfAbsent(job.sourceId(), id -> {
            SourceConfig s = sources.get(id);
            return new Backoff(s.duration("poll.initial-wait", "poll.initial-wait", Duration.ofSeconds(2)),
                    s.duration("poll.min-wait", "poll.min-wait", Duration.ofSeconds(1)),
                    s.duration("poll.max-wait", "poll.max-wait", Duration.ofHours(1)));
        });
    }

    public ExportJob transition(ExportJob job, JobUpdate update) {
        return transition(job, update, true);
    }

    private ExportJob transition(ExportJob job, JobUpdate update, boolean releaseLease) {
        ExportJob after = store.update(job, owner, update, releaseLease);
        if (after.state() != job.state()) {
            events.stateChanged(after, job.state(), after.state(), after.lastError());
        }
        return after;
    }
}
