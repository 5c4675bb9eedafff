package org.healthexport.relay.job;

import com.zaxxer.hikari.HikariDataSource;
import org.healthexport.relay.config.Sources;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store and the scheduler across a PostgreSQL restart, played by {@link DatabaseProxy}: a step on a cut
 * connection is repeated on a fresh one, and leases left without a worker by the outage are handed back.
 */
class StoreOutageTest {
    DatabaseProxy proxy;
    HikariDataSource pool;
    JobStore store;

    @BeforeEach
    void open() throws Exception {
        String direct = TestDatabases.newPostgresSchema();
        TestDatabases.migrated(direct).close();
        proxy = DatabaseProxy.toTestPostgres();
        pool = proxy.pool(direct, 4);
        store = new JobStore(pool, Clock.systemUTC());
    }

    @AfterEach
    void close() throws Exception {
        pool.close();
        proxy.close();
    }

    ExportJob newJob(String statusUrl) {
        return store.adopt(new NewJob("src", "fhir-bulk", null, statusUrl, null, Map.of()), JobState.SUBMITTED,
                store.now(), null).job();
    }

    @Test
    void aStepOnACutConnectionIsRepeatedOnAFreshOne() throws Exception {
        ExportJob job = newJob("https://x/jobs/1");
        int before = proxy.connectionsAccepted();
        // restarted in less than the pool's half-second validation bypass: the pooled connection looks fine
        proxy.cutAndRefuse();
        proxy.accept();
        assertThat(store.update(job, null, JobUpdate.to(JobState.RUNNING).progress("50%"), true).progress())
                .isEqualTo("50%");
        assertThat(store.get(job.id()).state()).isEqualTo(JobState.RUNNING);
        assertThat(proxy.connectionsAccepted()).isGreaterThan(before);
    }

    @Test
    void leasesLeftByAnOutageAreHandedBackOnceTheStoreAnswers() throws Exception {
        JobLifecycle jobs = new JobLifecycle(store, new Sources(List.of(UnknownSourceJobsTest.source("src"))), "relay-a",
                Duration.ofMinutes(5), 10, JobEvents.NONE);
        ExportJob working = newJob("https://x/jobs/working");
        assertThat(jobs.claimDue()).extracting(ExportJob::id).containsExactly(working.id());
        // a claim that landed but whose answer was lost with the connection: relay-a holds it, no worker does
        ExportJob orphan = newJob("https://x/jobs/orphan");
        assertThat(store.claimDue("relay-a", Duration.ofMinutes(5), 10)).hasSize(1);

        proxy.cutAndRefuse();
        assertThat(jobs.claimDue()).isEmpty(); // no exception out of the poll route while the store is away
        proxy.accept();
        assertThat(jobs.claimDue()).extracting(ExportJob::id).containsExactly(orphan.id());
        assertThat(jobs.inFlight()).isEqualTo(2);
    }

    @Test
    void aLostConnectionIsToldFromARefusedStatement() {
        assertThat(new StoreException("x", new SQLException("reset", "08006")).isConnectionLost()).isTrue();
        assertThat(new StoreException("x", new SQLException("shutting down", "57P01")).isConnectionLost()).isTrue();
        assertThat(new StoreException("x", new SQLTransientConnectionException("pool timeout")).isConnectionLost())
                .isTrue();
        assertThat(new StoreException("x", new SQLException("duplicate key", "23505")).isConnectionLost()).isFalse();
        assertThat(new StoreException("No job 1", null).isConnectionLost()).isFalse();
    }
}
