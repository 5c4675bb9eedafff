package org.healthexport.relay.source.healthex;

import com.zaxxer.hikari.HikariDataSource;
import org.apache.camel.impl.DefaultCamelContext;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobEvents;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.NewJob;
import org.healthexport.relay.job.TestDatabases;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

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

    /**
     * A kick-off of many patients reads the jobs in flight once, then creates one job after another. An API request
     * for a patient it has not reached yet waits for it and answers the kick-off's job, instead of making a job
     * the kick-off then makes again.
     */
    @Test
    void anApiRequestDuringAKickOffAnswersTheKickOffsJobForItsPatient() throws Exception {
        JobStore store = new JobStore(dataSource, Clock.systemUTC());
        SourceConfig config = config();
        CountDownLatch kickOffInside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        JobLifecycle lifecycle = new JobLifecycle(store, new Sources(List.of(config)), "relay-a", Duration.ofMinutes(1),
                10, JobEvents.NONE) {
            @Override
            public JobStore.Adoption submit(NewJob job) {
                if (job.attributes().get(HealthexJobs.TRIGGER).startsWith("kickoff:")
                        && job.attributes().get(HealthexJobs.PATIENT_ID).equals("pat-1")) {
                    kickOffInside.countDown(); // the kick-off's first patient: hold it there
                    await(release);
                }
                return super.submit(job);
            }
        };
        HealthexPatients patients = new HealthexPatients(Map.of(), Map.of(), null, Clock.systemUTC()) {
            @Override
            public List<HealthexPatient> patients(String sourceId) {
                return List.of(patient("pat-1"), patient("pat-2"));
            }
        };
        HealthexJobs jobs = new HealthexJobs(Map.of("hx", RetrievalWatchTest.SOURCE), patients, store, lifecycle);

        CompletableFuture<Map<String, Object>> kickOff = CompletableFuture.supplyAsync(() -> jobs.kickOff("hx"));
        assertThat(kickOffInside.await(10, TimeUnit.SECONDS)).isTrue();
        AtomicReference<JobStore.Adoption> answered = new AtomicReference<>();
        Thread api = new Thread(() -> answered.set(jobs.submit(config, Map.of("patientId", "pat-2",
                HealthexJobs.EXTERNAL_ID, "ext-pat-2"), lifecycle)));
        api.start();
        // until the request waits for the kick-off's lock, or (without it) has made its job
        while (api.isAlive() && api.getState() != Thread.State.BLOCKED) {
            Thread.sleep(5);
        }
        release.countDown();
        kickOff.get(10, TimeUnit.SECONDS);
        api.join(10_000);

        List<ExportJob> forPatient2 = store.activeJobsOf("hx").stream()
                .filter(j -> "pat-2".equals(j.attribute(HealthexJobs.PATIENT_ID))).toList();
        assertThat(forPatient2).hasSize(1);
        assertThat(forPatient2.get(0).attribute(HealthexJobs.TRIGGER)).startsWith("kickoff:");
        assertThat(answered.get().created()).as("the request answers the job in flight (200)").isFalse();
        assertThat(answered.get().job().id()).isEqualTo(forPatient2.get(0).id());
    }

    private static HealthexPatient patient(String id) {
        return new HealthexPatient(id, "ext-" + id, null, null, null);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static SourceConfig config() {
        DefaultCamelContext context = new DefaultCamelContext();
        Properties p = new Properties();
        p.setProperty("relay.sources.hx.kind", "healthex");
        context.getPropertiesComponent().setInitialProperties(p);
        return new SourceConfig("hx", new RelayProperties(context));
    }
}
