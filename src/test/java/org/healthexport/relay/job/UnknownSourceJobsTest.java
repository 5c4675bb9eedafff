package org.healthexport.relay.job;

import com.zaxxer.hikari.HikariDataSource;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.SourceConfigs;
import org.healthexport.relay.config.Sources;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A job whose source is no longer configured (the operator removed it, or edited its id): no worker could poll it
 * (its kind's routes may not even be loaded), so the scheduler sets it aside, and it resumes once the source is back.
 */
class UnknownSourceJobsTest {
    final HikariDataSource pool = TestDatabases.migrated(TestDatabases.newH2Url());
    final JobStore store = new JobStore(pool, Clock.systemUTC());

    @AfterEach
    void close() {
        pool.close();
    }

    static SourceConfig source(String id) {
        return SourceConfigs.source(id, "fhir-bulk", Map.of("base-url", "http://127.0.0.1/fhir/"));
    }

    ExportJob job(String sourceId, String statusUrl) {
        return store.adopt(new NewJob(sourceId, "fhir-bulk", null, statusUrl, null, Map.of()), JobState.RUNNING,
                store.now(), null).job();
    }

    @Test
    void aJobOfASourceNotConfiguredIsHandedBackUntouchedAndWaitsAnHour() {
        ExportJob kept = job("kept", "http://127.0.0.1/fhir/jobs/1");
        ExportJob removed = job("removed", "http://127.0.0.1/fhir/jobs/2");
        JobLifecycle jobs = new JobLifecycle(store, new Sources(List.of(source("kept"))), "relay-a",
                Duration.ofMinutes(5), 10, JobEvents.NONE);

        assertThat(jobs.claimDue()).extracting(ExportJob::id).containsExactly(kept.id());
        assertThat(jobs.inFlight()).isEqualTo(1);
        ExportJob aside = store.get(removed.id());
        assertThat(aside.state()).isEqualTo(JobState.RUNNING);
        assertThat(aside.attempts()).isZero();
        assertThat(aside.statusUrl()).isEqualTo(removed.statusUrl());
        assertThat(aside.lastError()).isEqualTo("Source removed is not configured on relay relay-a: the job waits"
                + " for it (looked at again every 60 minutes)");
        assertThat(Duration.between(store.now(), aside.nextPollAt()))
                .isCloseTo(JobLifecycle.UNKNOWN_SOURCE_WAIT, Duration.ofMinutes(1));
        // not held: another relay that has the source claims it once it is due
        assertThat(store.claimDue("relay-b", Duration.ofMinutes(5), 10)).isEmpty();
        assertThat(store.update(aside, null, JobUpdate.keepState().nextPollAt(store.now()), true)).isNotNull();
        JobLifecycle withTheSource = new JobLifecycle(store, new Sources(List.of(source("removed"))), "relay-b",
                Duration.ofMinutes(5), 10, JobEvents.NONE);
        assertThat(withTheSource.claimDue()).extracting(ExportJob::id).containsExactly(removed.id());
    }
}
