package org.healthexport.relay.job;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class H2JobStoreTest extends JobStoreContract {
    @Override
    String url() {
        return TestDatabases.newH2Url();
    }

    @Test
    void anEmbeddedStoreKeepsItsLeasesInThisProcess() {
        assertThat(store.keepsLeasesInRows()).isFalse();
    }

    @Test
    void aRelayStartedAgainOnItsEmbeddedStoreClaimsAtOnceTheJobsItHeldWhenItStopped() {
        ExportJob job = newJob("https://x/jobs/1");
        assertThat(store.claimDue("relay-a", Duration.ofMinutes(5), 10)).hasSize(1);
        // killed: no lease released. The next process opens the same database with no lease held
        JobStore restarted = new JobStore(dataSource, clock);
        assertThat(restarted.claimDue("relay-b", Duration.ofMinutes(5), 10)).extracting(ExportJob::id)
                .containsExactly(job.id());
    }
}
