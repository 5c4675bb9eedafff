package org.healthexport.relay.source;

import com.zaxxer.hikari.HikariDataSource;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.SourceConfigs;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.DatabaseProxy;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.MutableClock;
import org.healthexport.relay.job.TestDatabases;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The schedule's fire times across a PostgreSQL outage, played by {@link DatabaseProxy}. */
class KickoffScheduleTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T01:59:00Z"));
    private DatabaseProxy proxy;
    private HikariDataSource pool;

    @BeforeEach
    void open() throws Exception {
        String direct = TestDatabases.newPostgresSchema();
        TestDatabases.migrated(direct).close();
        proxy = DatabaseProxy.toTestPostgres();
        pool = proxy.pool(direct, 2);
    }

    @AfterEach
    void close() throws Exception {
        pool.close();
        proxy.close();
    }

    /** The store was down at 02:00: the night's kick-off starts at the next tick once it is back, not the next night. */
    @Test
    void aFireTimeTheStoreCouldNotTakeIsTriedAgainAtTheNextTick() throws Exception {
        Sources sources = new Sources(List.of(source("nightly")));
        KickoffSchedule schedule = new KickoffSchedule(sources, new JobStore(pool, clock));
        KickoffSchedule otherReplica = new KickoffSchedule(sources, new JobStore(pool, clock));

        clock.advance(Duration.ofMinutes(1).plusSeconds(5));
        proxy.cutAndRefuse();
        List<String> duringOutage = schedule.dueSources();
        proxy.accept();
        List<String> nextTick = schedule.dueSources();

        assertThat(duringOutage).isEmpty();
        assertThat(nextTick).containsExactly("nightly");
        assertThat(schedule.dueSources()).as("taken once").isEmpty();
        assertThat(otherReplica.dueSources()).as("each fire time starts one export across relays").isEmpty();
    }

    private static SourceConfig source(String id) {
        return SourceConfigs.source(id, "fhir-bulk", Map.of("schedule", "0 0 2 * * ?"));
    }
}
