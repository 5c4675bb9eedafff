package org.healthexport.relay.bench;

import com.zaxxer.hikari.HikariDataSource;
import org.apache.camel.util.FileUtil;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.SourceConfigs;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobEvents;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.MutableClock;
import org.healthexport.relay.job.NewJob;
import org.healthexport.relay.job.StoreSchema;
import org.healthexport.relay.job.TestDatabases;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The job store's part of one status poll, without HTTP or Camel: {@link JobLifecycle#claimDue()} takes a batch of
 * due jobs, and each one's answer "202, Retry-After: 1" is written back ({@link JobLifecycle#stillRunning}), as the
 * poll route does for every job of {@code bench/poll-scale.sh}. The store holds {@code jobs} running jobs, due one
 * after another over one second of a clock the benchmark moves, so every claim finds a full batch, as at 10,000
 * polls a second. The store is the relay's: an H2 file database (its default) or a fresh schema in PostgreSQL.
 * {@code history} delivered jobs can be stored beside them, as a store that has run for months holds them.
 * Run by {@code bench/jmh.sh}; the score is the time per job poll, on one thread.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx256m")
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class PollStoreBenchmark {
    /** Jobs per claim: relay.poll.batch-size's default. */
    static final int BATCH = 200;
    static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

    @Param("10000")
    public int jobs;
    /** {@code h2-file}: the embedded store of a relay on its own; {@code postgres}: 127.0.0.1:5432, database test. */
    @Param({"h2-file", "postgres"})
    public String store;

    /**
     * Delivered jobs stored beside the running ones, last polled a day before them: a claim that walked every job in
     * due order would meet all of them first.
     */
    @Param("0")
    public int history;

    private Path folder;
    private HikariDataSource pool;
    private MutableClock clock;
    private JobLifecycle lifecycle;

    @Setup(Level.Trial)
    public void storeRunningJobs() throws Exception {
        folder = Files.createTempDirectory("poll-store-bench");
        pool = new HikariDataSource();
        pool.setJdbcUrl(store.equals("postgres") ? TestDatabases.newPostgresSchema()
                : "jdbc:h2:file:" + folder.resolve("store"));
        pool.setMaximumPoolSize(10); // relay.store.pool-size's default
        StoreSchema.migrate(pool);
        storeHistory();
        clock = new MutableClock(START);
        JobStore jobStore = new JobStore(pool, clock);
        lifecycle = new JobLifecycle(jobStore, new Sources(List.of(source())), "bench-relay", Duration.ofMinutes(1),
                BATCH, JobEvents.NONE);
        Duration apart = Duration.ofSeconds(1).dividedBy(jobs);
        for (int i = 0; i < jobs; i++) {
            jobStore.adopt(new NewJob("bench", "fhir-bulk", null, "http://127.0.0.1/fhir/jobs/job-" + i, null, Map.of()),
                    JobState.RUNNING, START.plus(apart.multipliedBy(i)), null);
        }
    }

    private void storeHistory() throws SQLException {
        String insert = "INSERT INTO export_job (id, source_id, kind, dedup_key, state, next_poll_at, created_at, "
                + "updated_at) VALUES (?, 'bench', 'fhir-bulk', ?, 'DELIVERED', ?, ?, ?)";
        Timestamp dayBefore = Timestamp.from(START.minus(Duration.ofDays(1)));
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(insert)) {
            c.setAutoCommit(false);
            for (int i = 0; i < history; i++) {
                ps.setString(1, "delivered-" + i);
                ps.setString(2, "ended:delivered-" + i);
                ps.setTimestamp(3, dayBefore);
                ps.setTimestamp(4, dayBefore);
                ps.setTimestamp(5, dayBefore);
                ps.addBatch();
                if (i % 10_000 == 9_999 || i == history - 1) {
                    ps.executeBatch();
                    c.commit();
                }
            }
            c.setAutoCommit(true);
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        pool.close();
        FileUtil.removeDir(folder.toFile());
    }

    /** One claim of {@link #BATCH} due jobs and each one's 202 written back; the score is per job. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int claimAndAnswer202() {
        // the time in which BATCH more jobs fall due
        clock.advance(Duration.ofSeconds(1).multipliedBy(BATCH).dividedBy(jobs));
        List<ExportJob> due = lifecycle.claimDue();
        if (due.size() != BATCH) {
            throw new IllegalStateException("claimed " + due.size() + " due jobs, not " + BATCH + ": not a poll at full load");
        }
        for (ExportJob job : due) {
            lifecycle.stillRunning(job, "1", null, "in-progress");
            lifecycle.finished(job);
        }
        return due.size();
    }

    private static SourceConfig source() {
        return SourceConfigs.source("bench", "fhir-bulk", Map.of("base-url", "http://127.0.0.1/fhir/"));
    }
}
