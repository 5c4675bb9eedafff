package org.healthexport.relay.job;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.api.FlywayException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The schema migrated beside the start: the store's statements wait for it, and a migration that fails
 * makes every use of the store fail with the reason (the relay's start then fails on it).
 */
class StoreSchemaTest {
    private HikariDataSource pool;

    @AfterEach
    void close() {
        if (pool != null) {
            pool.close();
        }
    }

    @Test
    void statementsWaitForTheMigration() throws Exception {
        pool = new HikariDataSource();
        pool.setJdbcUrl(TestDatabases.newH2Url());
        CountDownLatch databaseAnswers = new CountDownLatch(1);
        DataSource slowToAnswer = gated(pool, databaseAnswers);

        StoreSchema schema = StoreSchema.migrateInBackground(slowToAnswer);
        JobStore store = new JobStore(slowToAnswer, Clock.systemUTC(), schema);
        CompletableFuture<Map<JobState, Long>> counts = CompletableFuture.supplyAsync(store::countByState);

        Thread.sleep(300);
        assertThat(schema.isDone()).isFalse();
        assertThat(store.isSchemaSettled()).isFalse();
        assertThat(counts).isNotDone(); // not run against tables that do not exist yet

        databaseAnswers.countDown();
        assertThat(counts.get(30, TimeUnit.SECONDS)).allSatisfy((state, n) -> assertThat(n).isZero());
        assertThat(schema.await()).isFalse(); // H2
        assertThat(store.isPostgres()).isFalse();
        assertThat(store.isReachable()).isTrue();
    }

    @Test
    void aFailedMigrationFailsEveryUseWithItsReason() throws Exception {
        pool = new HikariDataSource();
        // a table where no schema history is: Flyway refuses to migrate
        pool.setJdbcUrl(TestDatabases.newH2Url());
        try (var c = pool.getConnection()) {
            c.createStatement().execute("CREATE TABLE export_job (nothing INT)");
        }
        StoreSchema schema = StoreSchema.migrateInBackground(pool);
        JobStore store = new JobStore(pool, Clock.systemUTC(), schema);

        assertThatThrownBy(schema::await).isInstanceOf(StoreException.class)
                .hasMessageContaining("schema could not be brought up to date")
                .hasMessageContaining("no schema history table")
                .hasCauseInstanceOf(FlywayException.class);
        assertThatThrownBy(() -> store.list(JobState.RUNNING, 10)).isInstanceOf(StoreException.class);
        assertThat(store.isSchemaSettled()).isTrue();
        assertThat(store.isReachable()).isFalse();
        StoreHealthCheck check = new StoreHealthCheck(store, Duration.ofSeconds(2));
        assertThat(check.reachable()).isFalse();
    }

    @Test
    void migratesAFreshDatabaseAndLeavesACurrentOneAsItIs() {
        pool = new HikariDataSource();
        pool.setJdbcUrl(TestDatabases.newH2Url());
        assertThat(StoreSchema.migrateInBackground(pool).await()).isFalse();
        JobStore store = new JobStore(pool, Clock.systemUTC(), StoreSchema.migrateInBackground(pool));
        assertThat(store.countByState()).allSatisfy((state, n) -> assertThat(n).isZero());
    }

    /**
     * Flyway warns on every start when a database is newer than the versions it has been checked with ("Using H2
     * 2.4.240 which is newer than ..."): the relay's default H2 and PostgreSQL must be ones it knows, so that a
     * start on the defaults logs no warning. An H2 or a PostgreSQL newer than the Flyway in the pom fails here, not
     * in every user's log (Flyway 11.20.3 with H2 2.4.240 did).
     */
    @Test
    void flywayKnowsTheDatabasesItMigrates() {
        ListAppender<ILoggingEvent> flywayLines = new ListAppender<>();
        flywayLines.start();
        Logger flyway = (Logger) LoggerFactory.getLogger("org.flywaydb");
        flyway.addAppender(flywayLines);
        try (HikariDataSource h2 = TestDatabases.migrated(TestDatabases.newH2Url());
             HikariDataSource postgres = TestDatabases.migrated(TestDatabases.newPostgresSchema())) {
            assertThat(flywayLines.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                    .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
        } finally {
            flyway.detachAppender(flywayLines);
        }
    }

    /** {@code target} whose connections are handed out only once {@code open} is counted down. */
    private static DataSource gated(DataSource target, CountDownLatch open) {
        return (DataSource) Proxy.newProxyInstance(StoreSchemaTest.class.getClassLoader(),
                new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getConnection")) {
                        open.await();
                    }
                    try {
                        return method.invoke(target, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /**
     * Each database gets its own migrations besides the common ones: H2 drops the next-poll index its claim never
     * reads (and every poll updated); PostgreSQL replaces both next-poll indexes with one over the active jobs only,
     * which its claim walks in due order (docs/benchmarks.md, stop 31).
     */
    @Test
    void eachDatabaseHasTheIndexesItsClaimReads() throws Exception {
        try (HikariDataSource h2 = TestDatabases.migrated(TestDatabases.newH2Url());
             HikariDataSource postgres = TestDatabases.migrated(TestDatabases.newPostgresSchema())) {
            assertThat(indexes(h2)).contains("export_job_state_due").doesNotContain("export_job_due");
            assertThat(indexes(postgres)).contains("export_job_active_due")
                    .doesNotContain("export_job_due", "export_job_state_due");
        }
    }

    /**
     * The partial index serves the claim only while its predicate names exactly the states the claim asks for: a
     * state added to {@link JobState#ACTIVE} without a migration that rebuilds the index would send the claim back
     * to reading the whole table.
     */
    @Test
    void postgresClaimIndexCoversExactlyTheActiveStates() throws Exception {
        try (HikariDataSource postgres = TestDatabases.migrated(TestDatabases.newPostgresSchema());
             Connection c = postgres.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT indexdef FROM pg_indexes "
                     + "WHERE schemaname = current_schema() AND indexname = 'export_job_active_due'");
             ResultSet rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            Matcher quoted = Pattern.compile("'([A-Z_]+)'").matcher(rs.getString(1));
            Set<String> named = new TreeSet<>();
            while (quoted.find()) {
                named.add(quoted.group(1));
            }
            assertThat(named).isEqualTo(JobState.ACTIVE.stream().map(Enum::name)
                    .collect(Collectors.toCollection(TreeSet::new)));
        }
    }

    private static List<String> indexes(DataSource ds) throws SQLException {
        List<String> names = new ArrayList<>();
        try (Connection c = ds.getConnection();
             ResultSet rs = c.getMetaData().getIndexInfo(null, c.getSchema(),
                     c.getMetaData().storesUpperCaseIdentifiers() ? "EXPORT_JOB" : "export_job", false, false)) {
            while (rs.next()) {
                if (rs.getString("INDEX_NAME") != null) {
                    names.add(rs.getString("INDEX_NAME").toLowerCase(Locale.ROOT));
                }
            }
        }
        return names;
    }
}
