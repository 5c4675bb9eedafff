package org.healthexport.relay.source.fhir;

import com.zaxxer.hikari.HikariDataSource;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobEvents;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.JobUpdate;
import org.healthexport.relay.job.TestDatabases;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** A source has at most one queued kick-off, also when two requests for one arrive at once. */
class FhirBulkKickoffQueueTest {
    private final HikariDataSource dataSource = TestDatabases.migrated(TestDatabases.newH2Url());
    private final Sources sources = new Sources(List.of(FhirBulkKickoffTest.source(Map.of())));
    private final DefaultCamelContext camel = new DefaultCamelContext();

    @AfterEach
    void close() {
        dataSource.close();
    }

    private FhirBulkKickoff kickoff(JobStore store) {
        return new FhirBulkKickoff(sources, store,
                new JobLifecycle(store, sources, "relay-a", Duration.ofMinutes(1), 10, JobEvents.NONE));
    }

    private Exchange exchange() {
        return new DefaultExchange(camel);
    }

    @Test
    void askingAgainAnswersTheQueuedKickoffAndOnceItIsSentANewOneIsQueued() {
        JobStore store = new JobStore(dataSource, Clock.systemUTC());
        FhirBulkKickoff kickoff = kickoff(store);
        Exchange first = exchange();
        ExportJob queued = kickoff.queue("s", first);
        assertThat(first.getProperty("alreadyQueued", Boolean.class)).isFalse();

        Exchange again = exchange();
        assertThat(kickoff.queue("s", again).id()).isEqualTo(queued.id());
        assertThat(again.getProperty("alreadyQueued", Boolean.class)).isTrue();

        // the server accepted it: the job has its status URL and is no longer a queued kick-off
        store.update(queued, null, JobUpdate.to(JobState.RUNNING).statusUrl("https://fhir.example.org/jobs/1")
                .attribute(FhirBulkKickoff.KICKOFF, null), true);
        Exchange next = exchange();
        ExportJob second = kickoff.queue("s", next);
        assertThat(second.id()).isNotEqualTo(queued.id());
        assertThat(next.getProperty("alreadyQueued", Boolean.class)).isFalse();
        assertThat(store.activeJobsOf("s")).hasSize(2);
    }

    /** The second request read the jobs in flight before the first stored its job, then the newest job after. */
    @Test
    void aRequestThatMissedARacingKickoffInItsInFlightCheckAnswersIt() {
        JobStore store = new JobStore(dataSource, Clock.systemUTC()) {
            @Override
            public List<ExportJob> activeJobsOf(String sourceId) {
                return List.of();
            }
        };
        FhirBulkKickoff kickoff = kickoff(store);
        ExportJob first = kickoff.queue("s", exchange());
        Exchange second = exchange();
        assertThat(kickoff.queue("s", second).id()).isEqualTo(first.id());
        assertThat(second.getProperty("alreadyQueued", Boolean.class)).isTrue();
        assertThat(store.list(null, 10)).hasSize(1);
    }

    /** Both requests read the jobs in flight and the newest job before either stored its job. */
    @Test
    void requestsThatReadEverythingBeforeEitherStoredMakeOneKickoffAndOnlyTheFirstSendsIt() {
        JobStore store = new JobStore(dataSource, Clock.systemUTC()) {
            @Override
            public List<ExportJob> activeJobsOf(String sourceId) {
                return List.of();
            }

            @Override
            public Optional<ExportJob> newestJobOf(String sourceId) {
                return Optional.empty();
            }
        };
        FhirBulkKickoff kickoff = kickoff(store);
        Exchange first = exchange();
        Exchange second = exchange();
        ExportJob a = kickoff.queue("s", first);
        ExportJob b = kickoff.queue("s", second);
        assertThat(b.id()).isEqualTo(a.id());
        assertThat(first.getProperty("alreadyQueued", Boolean.class)).isFalse();
        assertThat(second.getProperty("alreadyQueued", Boolean.class)).isTrue();
        assertThat(store.list(null, 10)).hasSize(1);
    }
}
