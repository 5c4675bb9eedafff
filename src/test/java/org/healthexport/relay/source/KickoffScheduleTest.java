package org.healthexport.relay.source;

import com.zaxxer.hikari.HikariDataSource;
import org.apache.camel.impl.DefaultCamelContext;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.MutableClock;
import org.healthexport.relay.job.StoreException;
import org.healthexport.relay.job.TestDatabases;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class KickoffScheduleTest {
    private final HikariDataSource dataSource = TestDatabases.migrated(TestDatabases.newH2Url());
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T01:59:00Z"));

    @AfterEach
    void close() {
        dataSource.close();
    }

    /** The store did not answer at 02:00: the night's kick-off starts at the next tick, once, not the next night. */
    @Test
    void aFireTimeTheStoreCouldNotTakeIsTriedAgainAtTheNextTick() {
        AtomicInteger outages = new AtomicInteger(1);
        JobStore store = new JobStore(dataSource, clock) {
            @Override
            public boolean takeScheduledKickoff(String sourceId, Instant fireTime) {
                if (outages.getAndDecrement() > 0) {
                    throw new StoreException("Job store update failed: connection refused", null);
                }
                return super.takeScheduledKickoff(sourceId, fireTime);
            }
        };
        Sources sources = new Sources(List.of(source("nightly"), source("other")));
        KickoffSchedule schedule = new KickoffSchedule(sources, store);
        KickoffSchedule otherReplica = new KickoffSchedule(sources, new JobStore(dataSource, clock));

        clock.advance(Duration.ofMinutes(1).plusSeconds(5));
        List<String> atOutage = schedule.dueSources();
        List<String> nextTick = schedule.dueSources();
        List<String> after = schedule.dueSources();

        assertThat(atOutage).as("the outage hit the first source; the second was still taken").hasSize(1);
        assertThat(nextTick).hasSize(1).doesNotContainAnyElementsOf(atOutage);
        assertThat(after).isEmpty();
        assertThat(otherReplica.dueSources()).as("each fire time starts one export across relays").isEmpty();
    }

    private static SourceConfig source(String id) {
        DefaultCamelContext camel = new DefaultCamelContext();
        camel.getPropertiesComponent().addInitialProperty("relay.sources." + id + ".kind", "fhir-bulk");
        camel.getPropertiesComponent().addInitialProperty("relay.sources." + id + ".schedule", "0 0 2 * * ?");
        return new SourceConfig(id, new RelayProperties(camel));
    }
}
