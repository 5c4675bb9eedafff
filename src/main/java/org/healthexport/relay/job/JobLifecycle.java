package org.healthexport.relay.job;

import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;
import org.healthexport.relay.auth.AuthException;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.http.Backoff;
import org.healthexport.relay.http.FileUnavailableException;
import org.healthexport.relay.http.MalformedAnswerException;
import org.healthexport.relay.http.RefusedFileException;
import org.healthexport.relay.http.RetryAfter;
import org.healthexport.relay.http.TlsFailures;
import org.healthexport.relay.http.UrlPolicy;
import org.healthexport.relay.job.FaultLine.Fault;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;

/**
 * The job state machine as the routes drive it: each method is one outcome of one step (still running,
 * throttled, ready, failed...) and decides the job's next state and next poll time. Timing rules live here,
 * the flow lives in the YAML routes.
 */
public class JobLifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(JobLifecycle.class);
    /** How long a job whose source is not configured waits before it is looked at again (see setAside). */
    static final Duration UNKNOWN_SOURCE_WAIT = Duration.ofHours(1);
    /** The job.fault lines, under their own logger name so they can be routed or filtered apart. */
    private static final Logger FAULTS = LoggerFactory.getLogger(FaultLine.class);
    /** How often an expired file link may be answered by fetching a fresh manifest before the job is EXPIRED. */
    static final int MAX_LINK_REFRESHES = 3;

    private final JobStore store;
    private final Sources sources;
    private final String owner;
    private final Duration lease;
    private final int batchSize;
    private final JobEvents events;
    /** The jobs this relay's workers hold (claimed, not finished). */
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    /** Set when a store call failed: some of this relay's leases may be held by no worker (see claimDue). */
    private volatile boolean leasesInDoubt;
    private volatile boolean storeUnavailable;
    private final Map<String, Backoff> backoffs = new ConcurrentHashMap<>();

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
        int room = batchSize - inFlight.size();
        if (room <= 0) {
            return List.of();
        }
        List<ExportJob> claimed;
        try {
            if (leasesInDoubt) {
                leasesInDoubt = false;
                int released = store.releaseAllExcept(owner, List.copyOf(inFlight));
                if (released > 0) {
                    LOG.info("Handed back {} lease(s) no worker of {} holds (left by the store outage)", released, owner);
                }
            }
            claimed = store.claimDue(owner, lease, room);
        } catch (StoreException e) {
            // a database restart: nothing is claimed until it answers; one line when it goes, one when it is back
            leasesInDoubt = true;
            if (!storeUnavailable) {
                storeUnavailable = true;
                LOG.warn("Job store unavailable, claiming paused until it answers: {}", describe(e.getCause() == null ? e : e.getCause()));
            }
            return List.of();
        }
        if (storeUnavailable) {
            storeUnavailable = false;
            LOG.info("Job store answers again, claiming resumed");
        }
        List<ExportJob> workable = new ArrayList<>(claimed.size());
        for (ExportJob job : claimed) {
            if (sources.contains(job.sourceId())) {
                workable.add(job);
            } else {
                setAside(job);
            }
        }
        workable.forEach(job -> inFlight.add(job.id()));
        events.claimed(workable.size());
        return workable;
    }

    /**
     * Work route, first step: the job's id, source, kind and vendor request id go into the logging context, so
     * every log line about this job carries them (SourceDownloads carries them to the threads of its files).
     */
    public void logContext(@ExchangeProperty("job") ExportJob job) {
        MDC.put("jobId", job.id());
        MDC.put("jobSource", job.sourceId());
        MDC.put("jobKind", job.kind());
        if (job.requestId() != null) {
            MDC.put("jobVendorRequestId", job.requestId());
        } else {
            MDC.remove("jobVendorRequestId");
        }
    }

    /** Work route, when done with a claimed job (whatever the outcome). */
    public void finished(@ExchangeProperty("job") ExportJob job) {
        inFlight.remove(job.id());
        for (String key : new String[] {"jobId", "jobSource", "jobKind", "jobVendorRequestId"}) {
            MDC.remove(key);
        }
    }

    public int inFlight() {
        return inFlight.size();
    }

    /** Extends the lease of a job in a long step (a large delivery). */
    public void keepLease(ExportJob job) {
        if (!store.renewLease(job.id(), owner, lease)) {
            throw new LeaseLostException(job.id());
        }
    }

    /**
     * A job whose source this relay does not have (removed from its configuration, or never on this replica):
     * nothing here can poll it, so it is handed back, otherwise untouched, and looked at again in an hour, when
     * its source may be back.
     */
    private void setAside(ExportJob job) {
        String reason = "Source " + job.sourceId() + " is not configured on relay " + owner + ": the job waits for it"
                + " (looked at again every " + UNKNOWN_SOURCE_WAIT.toMinutes() + " minutes)";
        try {
            store.update(job, owner, JobUpdate.keepState().lastError(reason)
                    .nextPollAt(store.now().plus(UNKNOWN_SOURCE_WAIT)), true);
            LOG.warn("Job {}: {}", job.id(), reason);
        } catch (StoreException | LeaseLostException e) {
            LOG.debug("Job {}: not set aside now ({}); its lease runs out instead", job.id(), e.toString());
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
            return end(job, JobState.FAILED, "Deadline passed; " + reason);
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
            return end(job, JobState.FAILED, "Deadline passed while the export was still " + vendorStatus);
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

    /**
     * 429 or a transient error answer of the source: wait (Retry-After when given), count the attempt, keep the
     * state; its fault line names the HTTP code (429: rate-limited, else transient).
     */
    public ExportJob retryAnswer(ExportJob job, String retryAfter, Integer status, String reason) {
        return retry(job, retryAfter, status != null && status == 429 ? Fault.RATE_LIMITED : Fault.TRANSIENT, status,
                job.requestId(), reason);
    }

    private ExportJob retry(ExportJob job, String retryAfter, Fault fault, Integer status, String requestId,
                            String reason) {
        if (pastDeadline(job)) {
            return endWithFault(job, JobState.FAILED, fault, status, requestId, "Deadline passed; last error: " + reason);
        }
        Duration wait = backoff(job).next(RetryAfter.parse(retryAfter, store.now()), job.attempts());
        events.retried(job, reason);
        fault(job, fault, status, requestId, wait, job.state(), reason);
        return transition(job, JobUpdate.keepState().attempts(job.attempts() + 1).lastError(reason)
                .nextPollAt(store.now().plus(wait)));
    }

    /** A 401: fetch a new token and ask again at once, but only once in a row. */
    public ExportJob unauthorized(@ExchangeProperty("job") ExportJob job) {
        if ("true".equals(job.attribute("authRetried"))) {
            return endWithFault(job, JobState.FAILED, Fault.FATAL, 401, job.requestId(),
                    "HTTP 401 again after renewing the token: the credentials are refused");
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
        return unknown(job, vendorStatus, null);
    }

    /** The same for a status value in the body of an answer with this HTTP code (e.g. a Redox envelope's status). */
    public ExportJob unknownStatusAnswer(ExportJob job, String vendorStatus, Integer status) {
        return unknown(job, vendorStatus, status);
    }

    /** The same for an HTTP code the protocol does not give (e.g. a 203 to a status poll). */
    public ExportJob unknownAnswer(ExportJob job, Integer status) {
        return unknown(job, "HTTP " + status, status);
    }

    private ExportJob unknown(ExportJob job, String vendorStatus, Integer status) {
        String reason = "Unknown status '" + vendorStatus + "' from the source; polling on with backoff";
        events.unknownStatus(job);
        if (pastDeadline(job)) {
            return endWithFault(job, JobState.FAILED, Fault.UNKNOWN_STATUS, status, job.requestId(),
                    "Deadline passed; " + reason);
        }
        Duration wait = backoff(job).afterAttempt(job.attempts());
        fault(job, Fault.UNKNOWN_STATUS, status, job.requestId(), wait, job.state(), reason);
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

    /** A permanent fault: the job ends FAILED with the reason. */
    public ExportJob fail(@ExchangeProperty("job") ExportJob job, String reason) {
        return endWithFault(job, JobState.FAILED, Fault.FATAL, null, job.requestId(), reason);
    }

    /** The same for a fatal error answer of the source, with its HTTP code. */
    public ExportJob failAnswer(ExportJob job, Integer status, String reason) {
        return endWithFault(job, JobState.FAILED, Fault.FATAL, status, job.requestId(), reason);
    }

    /** The same, with what the kind records beside the reason (the vendor's codes, a suggested action). */
    public ExportJob failAnswer(ExportJob job, Integer status, String reason, JobUpdate details) {
        return endWithFault(job, JobState.FAILED, Fault.FATAL, status, job.requestId(), reason, details);
    }

    /** A URL the answer listed on a host the source may not use, found by a kind's own planning: FAILED. */
    public ExportJob refusedUrl(ExportJob job, String reason, JobUpdate details) {
        return endWithFault(job, JobState.FAILED, Fault.REFUSED_URL, null, job.requestId(), reason, details);
    }

    /** Ends the job for a reason that is not a fault (the deadline, an action at the source, a cancellation). */
    public ExportJob end(ExportJob job, JobState state, String reason) {
        LOG.warn("Job {} of source {} ended {}: {}{}", job.id(), job.sourceId(), state, reason, requestIdText(job));
        return transition(job, JobUpdate.to(state).lastError(reason).nextPollAt(store.now()));
    }

    private ExportJob endWithFault(ExportJob job, JobState state, Fault fault, Integer status, String requestId,
                                   String reason) {
        return endWithFault(job, state, fault, status, requestId, reason, JobUpdate.keepState());
    }

    /** Ends the job in {@code state} with one fault line, and what the caller records beside the reason. */
    private ExportJob endWithFault(ExportJob job, JobState state, Fault fault, Integer status, String requestId,
                                   String reason, JobUpdate details) {
        fault(job, fault, status, requestId, null, state, reason);
        return transition(job, details.state(state).lastError(reason).nextPollAt(store.now()));
    }

    /** Every fault and refusal: one {@link FaultLine}, one count in relay_faults_total. */
    private void fault(ExportJob job, Fault fault, Integer status, String requestId, Duration retryIn, JobState state,
                       String reason) {
        events.fault(job.kind(), fault.label());
        FAULTS.warn(FaultLine.format(job, fault, status, requestId, retryIn, state, reason));
    }

    /**
     * Shared error handler of the routes: decides from the exception whether the job fails now (refused
     * credentials, a refused URL, bad configuration), needs a fresh manifest (an expired link), is another
     * relay's now (lease lost), or is retried with backoff (network, 5xx, a malformed answer, target outage).
     * {@code status} is the HTTP code of the source's last answer in this exchange, if any. Answers the job as
     * now stored, which becomes the exchange's body: a kick-off that failed this way answers its job to its caller.
     */
    public ExportJob onError(@ExchangeProperty("job") ExportJob job, Exception error, Integer status) {
        if (job == null) {
            LOG.error("Step failed outside any job: {}", error.toString());
            return null;
        }
        try {
            return handle(job, error, status);
        } catch (StoreException storeDown) {
            // the step's outcome cannot be recorded: the job keeps its lease until claimDue hands it back
            leasesInDoubt = true;
            LOG.warn("Job {} of source {}: step failed ({}) and the job store is unavailable ({}); the job is taken up "
                    + "again once the store answers", job.id(), job.sourceId(), describe(error), describe(storeDown));
            return job;
        }
    }

    private ExportJob handle(ExportJob job, Exception error, Integer status) {
        LOG.debug("Job {}: step failed", job.id(), error); // the stack, for a developer; the fault line says what
        ExportJob stored = store.find(job.id()).orElse(job);
        // the request id of the answer this exchange got is not stored yet: keep it
        ExportJob current = job.requestId() == null ? stored : stored.withRequestId(job.requestId());
        FileUnavailableException file = cause(error, FileUnavailableException.class);
        if (error instanceof LeaseLostException) {
            LOG.warn("Job {}: lease lost to another relay; dropping this relay's work on it", job.id());
            return current;
        } else if (error instanceof AuthException auth && auth.isPermanent()) {
            return endWithFault(current, JobState.FAILED, Fault.FATAL, null, current.requestId(), auth.getMessage());
        } else if (error instanceof UrlPolicy.RefusedUrlException) {
            return endWithFault(current, JobState.FAILED, Fault.REFUSED_URL, null, current.requestId(), error.getMessage());
        } else if (error instanceof RefusedFileException) {
            return endWithFault(current, JobState.FAILED, Fault.REFUSED_FILE, null, null, error.getMessage());
        } else if (error instanceof ConfigurationException) {
            return endWithFault(current, JobState.FAILED, Fault.FATAL, null, null, error.getMessage());
        } else if (cause(error, TargetFailedException.class) != null) {
            return retry(current, null, Fault.TARGET_FAILED, null, null, describe(error));
        } else if (file != null && file.isRefusedToTheToken()) {
            // a fresh manifest would list the same file, refused the same way: someone must give the client access
            return endWithFault(current, JobState.FAILED, Fault.FILE_FAILED, file.httpCode(), file.requestId(),
                    file.getMessage() + " to the source's token: the client may not read this file (a scope it lacks,"
                            + " or another client's export)");
        } else if (file != null && file.isExpiredLink()) {
            return refreshLinks(current, file.getMessage(), file.httpCode(), file.requestId());
        } else if (file != null) {
            return retry(current, null, Fault.FILE_FAILED, file.httpCode(), file.requestId(), describe(error));
        } else if (cause(error, MalformedAnswerException.class) != null) {
            return retry(current, null, Fault.MALFORMED, status, current.requestId(), describe(error));
        } else {
            // no answer behind it (network, timeout, the store): no vendor request id either
            return retry(current, null, Fault.TRANSIENT, null, null, describe(error));
        }
    }

    private static <T extends Throwable> T cause(Throwable error, Class<T> type) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    /** A file link is gone or refused: ask the source for a fresh manifest, a bounded number of times. */
    public ExportJob refreshLinks(ExportJob job, String reason) {
        return refreshLinks(job, reason, null, job.requestId());
    }

    private ExportJob refreshLinks(ExportJob job, String reason, Integer status, String requestId) {
        int refreshes = Integer.parseInt(Optional.ofNullable(job.attribute("linkRefreshes")).orElse("0"));
        if (refreshes >= MAX_LINK_REFRESHES) {
            return endWithFault(job, JobState.EXPIRED, Fault.FILE_FAILED, status, requestId,
                    "Export files are no longer available (" + reason + ") after " + refreshes + " fresh manifests");
        }
        fault(job, Fault.FILE_FAILED, status, requestId, Duration.ZERO, JobState.RUNNING,
                reason + "; fetching a fresh manifest");
        return transition(job, JobUpdate.to(JobState.RUNNING).lastError(reason + "; fetching a fresh manifest")
                .attribute("linkRefreshes", String.valueOf(refreshes + 1)).nextPollAt(store.now()));
    }

    /** The vendor's id of the last request (Oracle opc-request-id, Redox log id), for support, in log lines. */
    static String requestIdText(ExportJob job) {
        return job.requestId() == null ? "" : " (vendor request id " + job.requestId() + ")";
    }

    static String describe(Throwable error) {
        String message = error.getMessage();
        String plain = error.getClass().getSimpleName() + (message == null ? "" : ": " + message);
        // a TLS failure in words first (kept whole by the cut below), then what was being called when it is
        // wrapped (a token endpoint, an S3 upload)
        String text = TlsFailures.describe(error)
                .map(tls -> error instanceof SSLException || message == null ? tls
                        : tls + "; during: " + message)
                .orElse(plain);
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
        if (update.requestId == null && job.requestId() != null) {
            update.requestId(job.requestId()); // the last answer's id, captured by the route, stored in the same write
        }
        ExportJob after = store.update(job, owner, update, releaseLease);
        if (after.state() != job.state()) {
            events.stateChanged(after, job.state(), after.state(), after.lastError());
        }
        return after;
    }
}
