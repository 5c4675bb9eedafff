package org.healthexport.relay.deliver;

import org.apache.camel.impl.DefaultCamelContext;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The per-source bound, driven the way Camel's parallel split drives its executor: the first task submitted by
 * the thread running the route, every later one from a task of the split.
 */
class SourceDownloadsTest {
    private final Map<String, AtomicInteger> poolsMade = new ConcurrentHashMap<>();
    private final ExecutorService routeThreads = Executors.newCachedThreadPool();
    private SourceDownloads downloads;

    @AfterEach
    void stop() throws InterruptedException {
        routeThreads.shutdownNow();
        if (downloads != null) {
            downloads.shutdownNow();
            assertThat(downloads.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    private SourceDownloads downloads(Map<String, String> settings) {
        DefaultCamelContext context = new DefaultCamelContext();
        Properties p = new Properties();
        p.setProperty("relay.sources.a.kind", "fhir-bulk");
        p.setProperty("relay.sources.b.kind", "fhir-bulk");
        p.putAll(settings);
        context.getPropertiesComponent().setInitialProperties(p);
        RelayProperties props = new RelayProperties(context);
        Sources sources = new Sources(List.of(new SourceConfig("a", props), new SourceConfig("b", props)));
        downloads = new SourceDownloads(sources, 8, (id, threads) -> {
            poolsMade.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
            return Executors.newFixedThreadPool(threads);
        });
        return downloads;
    }

    private static ExportJob job(String id, String source) {
        return new ExportJob(id, source, "fhir-bulk", null, null, JobState.DELIVERING, null, null, null, null, 0, null,
                null, null, null, null, Map.of(), null, null);
    }

    /** Starts a split of {@code files} file tasks for the job, as deliver-job does; returns when all are done. */
    private Future<?> split(SourceDownloads downloads, ExportJob job, int files, Runnable fetch) {
        CountDownLatch done = new CountDownLatch(files);
        return routeThreads.submit(() -> {
            downloads.forJob(job);
            // the route's thread submits the iteration; the iteration, on the pool, submits every file
            downloads.execute(() -> {
                for (int i = 0; i < files; i++) {
                    downloads.execute(() -> {
                        try {
                            fetch.run();
                        } finally {
                            done.countDown();
                        }
                    });
                }
            });
            done.await();
            return null;
        });
    }

    /** Counts the files being fetched at once for one source; each fetch takes a little while. */
    private static final class Concurrency implements Runnable {
        final AtomicInteger now = new AtomicInteger();
        final AtomicInteger max = new AtomicInteger();
        final AtomicInteger fetched = new AtomicInteger();
        final CountDownLatch release;

        Concurrency(CountDownLatch release) {
            this.release = release;
        }

        @Override
        public void run() {
            max.accumulateAndGet(now.incrementAndGet(), Math::max);
            try {
                if (release != null) {
                    release.await(20, TimeUnit.SECONDS);
                }
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                now.decrementAndGet();
                fetched.incrementAndGet();
            }
        }
    }

    @Test
    void aSourceNeverFetchesMoreThanItsParallelDownloadsAcrossItsJobs() throws Exception {
        SourceDownloads downloads = downloads(Map.of("relay.sources.a.parallel-downloads", "2"));
        Concurrency a = new Concurrency(null);

        Future<?> first = split(downloads, job("j1", "a"), 40, a);
        Future<?> second = split(downloads, job("j2", "a"), 40, a);
        first.get(30, TimeUnit.SECONDS);
        second.get(30, TimeUnit.SECONDS);

        assertThat(a.fetched).hasValue(80);
        assertThat(a.max).hasValue(2);
        assertThat(poolsMade.get("a")).hasValue(1);
        assertThat(downloads.parallelOf("a")).isEqualTo(2);
        assertThat(downloads.parallelOf("b")).isEqualTo(8);
    }

    @Test
    void anotherSourceDeliversWhileOneSourceIsBlocked() throws Exception {
        SourceDownloads downloads = downloads(Map.of("relay.sources.a.parallel-downloads", "2",
                "relay.sources.b.parallel-downloads", "4"));
        CountDownLatch releaseA = new CountDownLatch(1);
        Concurrency a = new Concurrency(releaseA);
        Concurrency b = new Concurrency(null);

        Future<?> busy = split(downloads, job("j1", "a"), 50, a);
        Future<?> other = split(downloads, job("j2", "b"), 20, b);

        other.get(20, TimeUnit.SECONDS); // every file of b while a's two threads are stuck
        assertThat(b.fetched).hasValue(20);
        assertThat(b.max).hasValue(4);
        assertThat(a.fetched).hasValue(0);
        await().atMost(Duration.ofSeconds(5)).until(() -> a.now.get() == 2);

        releaseA.countDown();
        busy.get(20, TimeUnit.SECONDS);
        assertThat(a.fetched).hasValue(50);
        assertThat(a.max).hasValue(2);
    }

    /** A job's log context goes with each of its files to the download thread, and leaves with it. */
    @Test
    void aDownloadRunsInItsJobsLogContext() throws Exception {
        SourceDownloads downloads = downloads(Map.of("relay.sources.a.parallel-downloads", "1"));
        List<String> seen = new CopyOnWriteArrayList<>();
        routeThreads.submit(() -> {
            MDC.put("jobId", "j7");
            try {
                downloads.forJob(job("j7", "a"));
                downloads.submit(() -> seen.add(MDC.get("jobId"))).get(10, TimeUnit.SECONDS);
            } finally {
                MDC.remove("jobId");
            }
            return null;
        }).get(20, TimeUnit.SECONDS);
        // the same pool thread, a task of no job: nothing of j7 is left on it
        downloads.forJob(job("j8", "a"));
        downloads.submit(() -> seen.add(String.valueOf(MDC.get("jobId")))).get(10, TimeUnit.SECONDS);

        assertThat(seen).containsExactly("j7", "null");
    }

    @Test
    void aSubmissionOutsideAJobsSplitFailsInsteadOfPickingAPool() {
        SourceDownloads downloads = downloads(Map.of());
        assertThatThrownBy(() -> downloads.execute(() -> { }))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("forJob");

        // the hand-off serves the one submission that starts the split, not a later one from the route's thread
        downloads.forJob(job("j1", "a"));
        downloads.execute(() -> { });
        assertThatThrownBy(() -> downloads.execute(() -> { })).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aSettingBelowOneFailsAtStartup() {
        assertThatThrownBy(() -> downloads(Map.of("relay.sources.b.parallel-downloads", "0")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("relay.sources.b.parallel-downloads");
        assertThatThrownBy(() -> downloads(Map.of("relay.sources.b.parallel-downloads", "many")))
                .isInstanceOf(ConfigurationException.class);
    }
}
