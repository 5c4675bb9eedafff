package org.healthexport.relay.source.healthex;

import com.zaxxer.hikari.HikariDataSource;
import org.apache.camel.impl.DefaultCamelContext;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.NewJob;
import org.healthexport.relay.job.TestDatabases;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class HealthexJobsTest {
    private final HikariDataSource dataSource = TestDatabases.migrated(TestDatabases.newH2Url());

    @AfterEach
    void close() {
        dataSource.close();
    }

    /**
     * Two API requests for one patient at once: the second read the jobs in flight before the first stored its
     * job, then finds that job as the patient's latest. It answers that job instead of making a second one.
     */
    @Test
    void aRequestThatMissedARacingJobInItsInFlightCheckAnswersThatJob() {
        JobStore store = new JobStore(dataSource, Clock.systemUTC()) {
            @Override
            public List<ExportJob> activeJobsOf(String sourceId) {
                return List.of(); // read before the racing request's job was stored
            }
        };
        HealthexJobs jobs = new HealthexJobs(Map.of("hx", RetrievalWatchTest.SOURCE), null, store, null);
        SourceConfig config = config();
        Map<String, Object> request = Map.of("patientId", "pat-race", HealthexJobs.EXTERNAL_ID, "ext-race");

        NewJob first = jobs.adopt(config, request);
        ExportJob stored = store.adopt(first, JobState.SUBMITTED, Instant.now(), null).job();
        NewJob second = jobs.adopt(config, request);

        assertThat(second.dedupKey()).isEqualTo(first.dedupKey());
        JobStore.Adoption again = store.adopt(second, JobState.SUBMITTED, Instant.now(), null);
        assertThat(again.created()).isFalse();
        assertThat(again.job().id()).isEqualTo(stored.id());
    }

    private static SourceConfig config() {
        DefaultCamelContext context = new DefaultCamelContext();
        Properties p = new Properties();
        p.setProperty("relay.sources.hx.kind", "healthex");
        context.getPropertiesComponent().setInitialProperties(p);
        return new SourceConfig("hx", new RelayProperties(context));
    }
}
