package org.healthexport.relay.deliver;

import org.apache.camel.ExchangeProperty;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.ExportJob;
import org.slf4j.MDC;

import java.util.List;
import java.util.Map;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The executor of deliver-job's split over a job's files: every source downloads on a pool of its own, of
 * {@code relay.sources.<id>.parallel-downloads} threads (default {@code relay.download.parallel}), created on
 * first use. So at most that many files of a source are fetched at once, across all its jobs, and a source with
 * thousands of slow files holds none of the threads another source's jobs need. (A per-source semaphore on one
 * shared pool would not do: the busy source's waiting tasks would occupy the shared threads.)
 *
 * <p>Camel resolves a split's {@code executorService} once, when the route is built, and hands it bare tasks that
 * do not name their exchange. The source of a task is therefore known in one of two ways:
 * <ul>
 *   <li>a split's first task is submitted by the thread that runs deliver-job, right after {@link #forJob} named
 *   the job's source on that thread (a hand-off used up by that submission);</li>
 *   <li>every later task of the split (the next file, the aggregation of a finished one) is submitted from one of
 *   the split's own tasks, so from that source's pool, and stays there.</li>
 * </ul>
 * A submission with neither fails loudly instead of landing on another source's pool.
 */
public class SourceDownloads extends AbstractExecutorService {
    /**
     * Creates the pool of one source: {@code threads} threads and an unbounded queue. It must not run a task on
     * the submitting thread when full (Camel's default CallerRuns policy): that thread would be one download more.
     */
    @FunctionalInterface
    public interface PoolFactory {
        ExecutorService create(String sourceId, int threads);
    }

    private static final ThreadLocal<String> HANDED_OFF = new ThreadLocal<>();
    private static final ThreadLocal<String> RUNNING = new ThreadLocal<>();

    private final Sources sources;
    private final int defaultParallel;
    private final PoolFactory factory;
    private final Map<String, ExecutorService> pools = new ConcurrentHashMap<>();
    private volatile boolean shutdown;

    public SourceDownloads(Sources sources, int defaultParallel, PoolFactory factory) {
        RelayProperties.atLeast("relay.download.parallel", defaultParallel, 1);
        this.sources = sources;
        this.defaultParallel = defaultParallel;
        this.factory = factory;
        sources.all().forEach(this::parallelOf); // a bad setting fails at startup, not at the first delivery
    }

    /** At most this many files of the source are fetched at once on this relay. */
    public int parallelOf(String sourceId) {
        return sources.contains(sourceId) ? parallelOf(sources.get(sourceId)) : defaultParallel;
    }

    /** The most files this relay fetches at once, all sources together (each source's pool full). */
    public int atMost() {
        return Math.max(defaultParallel, sources.all().stream().mapToInt(this::parallelOf).sum());
    }

    private int parallelOf(SourceConfig source) {
        return source.intProperty("parallel-downloads", defaultParallel, 1);
    }

    /**
     * deliver-job, just before the split over the job's files: the split about to start on this thread runs on
     * the job's source's pool. (Camel submits a split's first task even when there are no files.)
     */
    public void forJob(@ExchangeProperty("job") ExportJob job) {
        HANDED_OFF.set(job.sourceId());
    }

    @Override
    public void execute(Runnable task) {
        String source = HANDED_OFF.get();
        if (source != null) {
            HANDED_OFF.remove();
        } else {
            source = RUNNING.get();
        }
        if (source == null) {
            throw new IllegalStateException("A download submitted outside a job's split: call sourceDownloads.forJob"
                    + " right before the split whose executorService is sourceDownloads");
        }
        String owner = source;
        // the job's log context (jobId, jobSource, ...) goes with its files: Camel's own MDC propagation is off
        // (camel.main.use-mdc-logging, application.properties), a copy per file costs nothing beside a download
        Map<String, String> jobContext = MDC.getCopyOfContextMap();
        poolOf(owner).execute(() -> {
            String outer = RUNNING.get(); // set when a pool ran this task on its caller's thread
            Map<String, String> outerContext = MDC.getCopyOfContextMap();
            RUNNING.set(owner);
            setContext(jobContext);
            try {
                task.run();
            } finally {
                setContext(outerContext);
                if (outer == null) {
                    RUNNING.remove();
                } else {
                    RUNNING.set(outer);
                }
            }
        });
    }

    private static void setContext(Map<String, String> context) {
        if (context == null) {
            MDC.clear();
        } else {
            MDC.setContextMap(context);
        }
    }

    private ExecutorService poolOf(String sourceId) {
        if (shutdown) {
            throw new RejectedExecutionException("Downloads are shut down");
        }
        return pools.computeIfAbsent(sourceId, id -> factory.create(id, parallelOf(id)));
    }

    @Override
    public void shutdown() {
        shutdown = true;
        pools.values().forEach(ExecutorService::shutdown);
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown = true;
        return pools.values().stream().flatMap(p -> p.shutdownNow().stream()).toList();
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown && pools.values().stream().allMatch(ExecutorService::isTerminated);
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (ExecutorService pool : pools.values()) {
            if (!pool.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return false;
            }
        }
        return isTerminated();
    }
}
