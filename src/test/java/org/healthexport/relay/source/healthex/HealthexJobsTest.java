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
import org.healthexport.relay.job.JobUpdate;
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

import static org.assertj.core.api.Assertions.assertThat;

class HealthexJobsTest {
    private final String url = TestDatabases.newH2Url();
    private final HikariDataSource dataSource = TestDatabases.migrated(url);

    @AfterEach
    void close() {
        dataSource.close();
    }

    /**
     * Two API requests for one patient at once: the second checked the jobs in flight before the first stored its
     * job. Both jobs hold the patient's slot, so the store answers the first to the second.
     */
    @Test
    void aRequestThatMissedARacingJobInItsInFlightCheckAnswersThatJob() {
        JobStore store = new JobStore(dataSource, Clock.systemUTC()) {
            @Override
            public List<ExportJob> activeJobsWith(String sourceId, String name, String value) {
                return List.of(); // read before the racing request's job was stored
            }
        };
        SourceConfig config = config();
        JobLifecycle lifecycle = lifecycle(store, config, "relay-a");
        HealthexJobs jobs = new HealthexJobs(Map.of("hx", RetrievalWatchTest.SOURCE), null, store, lifecycle);
        Map<String, Object> request = Map.of("patientId", "pat-race", HealthexJobs.EXTERNAL_ID, "ext-race");

        JobStore.Adoption first = jobs.submit(config, request, lifecycle);
        JobStore.Adoption second = jobs.submit(config, request, lifecycle);

        assertThat(first.created()).isTrue();
        assertThat(second.created()).isFalse();
        assertThat(second.job().id()).isEqualTo(first.job().id());
    }

    /**
     * A job stored by an earlier version holds no slot (as a job adopted by retrieval id does not): the in-flight
     * check finds it by the patient's id in the store, exactly (not another patient's whose id differs by a LIKE
     * wildcard, not one whose id is a prefix), and a request for that patient answers it.
     */
    @Test
    void aRequestForAPatientWithAJobInFlightThatHoldsNoSlotAnswersThatJob() {
        JobStore store = new JobStore(dataSource, Clock.systemUTC());
        SourceConfig config = config();
        JobLifecycle lifecycle = lifecycle(store, config, "relay-a");
        HealthexJobs jobs = new HealthexJobs(Map.of("hx", RetrievalWatchTest.SOURCE), null, store, lifecycle);
        ExportJob earlier = store.adopt(new NewJob("hx", HealthexKind.NAME, null, null, "https://x/updateData",
                Map.of(HealthexJobs.PATIENT_ID, "pat_1", HealthexJobs.TRIGGER, "kickoff:old")), JobState.RUNNING,
                Instant.now(), null).job();
        ExportJob otherPatient = store.adopt(new NewJob("hx", HealthexKind.NAME, null, null, "https://x/updateData",
                Map.of(HealthexJobs.PATIENT_ID, "patX1", HealthexJobs.TRIGGER, "kickoff:old")), JobState.RUNNING,
                Instant.now(), null).job();

        JobStore.Adoption answered = jobs.submit(config, Map.of("patientId", "pat_1",
                HealthexJobs.EXTERNAL_ID, "ext-1"), lifecycle);
        JobStore.Adoption forAPatientWhoseIdIsAPrefix = jobs.submit(config, Map.of("patientId", "pat",
                HealthexJobs.EXTERNAL_ID, "ext-pat"), lifecycle);

        assertThat(answered.created()).isFalse();
        assertThat(answered.job().id()).isEqualTo(earlier.id()).isNotEqualTo(otherPatient.id());
        assertThat(forAPatientWhoseIdIsAPrefix.created()).isTrue();
    }

    /**
     * Two replicas on one store. A kick-off of many patients reads the jobs in flight once, then creates one job
     * after another; a request to the other replica, for a patient the kick-off has not reached yet, makes that
     * patient's job first. The kick-off then answers that job for the patient instead of making a second one.
     */
    @Test
    void aKickOffOnOneReplicaAndARequestToAnotherMakeOneJobForAPatient() throws Exception {
        SourceConfig config = config();
        CountDownLatch kickOffInside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        JobStore storeA = new JobStore(dataSource, Clock.systemUTC());
        JobLifecycle lifecycleA = new JobLifecycle(storeA, new Sources(List.of(config)), "relay-a",
                Duration.ofMinutes(1), 10, JobEvents.NONE) {
            @Override
            public JobStore.Adoption submit(NewJob job) {
                if (job.attributes().get(HealthexJobs.PATIENT_ID).equals("pat-1")) {
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
        HealthexJobs replicaA = new HealthexJobs(Map.of("hx", RetrievalWatchTest.SOURCE), patients, storeA,
                lifecycleA);
        try (HikariDataSource otherPool = TestDatabases.migrated(url)) {
            JobStore storeB = new JobStore(otherPool, Clock.systemUTC());
            JobLifecycle lifecycleB = lifecycle(storeB, config, "relay-b");
            HealthexJobs replicaB = new HealthexJobs(Map.of("hx", RetrievalWatchTest.SOURCE), patients, storeB,
                    lifecycleB);

            CompletableFuture<Map<String, Object>> kickOff = CompletableFuture.supplyAsync(() -> replicaA.kickOff("hx"));
            assertThat(kickOffInside.await(10, TimeUnit.SECONDS)).isTrue();
            JobStore.Adoption answered = replicaB.submit(config, Map.of("patientId", "pat-2"), lifecycleB);
            assertThat(answered.created()).isTrue();
            release.countDown();
            Map<String, Object> summary = kickOff.get(10, TimeUnit.SECONDS);

            List<ExportJob> forPatient2 = storeA.activeJobsOf("hx").stream()
                    .filter(j -> "pat-2".equals(j.attribute(HealthexJobs.PATIENT_ID))).toList();
            assertThat(forPatient2).extracting(ExportJob::id).containsExactly(answered.job().id());
            assertThat(summary.get("created")).asList()
                    .containsExactly(Map.of("job", storeA.activeJobsOf("hx").stream()
                            .filter(j -> "pat-1".equals(j.attribute(HealthexJobs.PATIENT_ID))).findFirst()
                            .orElseThrow().id(), HealthexJobs.PATIENT_ID, "pat-1"));
            assertThat(summary.get("alreadyActive")).asList()
                    .containsExactly(Map.of("job", answered.job().id(), HealthexJobs.PATIENT_ID, "pat-2"));
        }
    }

    /** A patient's job holds the patient's slot until it ends; then the next trigger makes the next job. */
    @Test
    void thePatientsNextJobIsMadeOnceTheLastOneHasEnded() {
        JobStore store = new JobStore(dataSource, Clock.systemUTC());
        SourceConfig config = config();
        JobLifecycle lifecycle = lifecycle(store, config, "relay-a");
        HealthexJobs jobs = new HealthexJobs(Map.of("hx", RetrievalWatchTest.SOURCE), null, store, lifecycle);
        Map<String, Object> request = Map.of("patientId", "pat-1", HealthexJobs.EXTERNAL_ID, "ext-1");

        JobStore.Adoption first = jobs.submit(config, request, lifecycle);
        JobStore.Adoption whileInFlight = jobs.submit(config, Map.of("patientId", "pat-1",
                HealthexJobs.SKIP_INTERACTIVE, true), lifecycle);
        store.update(first.job(), null, JobUpdate.to(JobState.DELIVERED), true);
        JobStore.Adoption next = jobs.submit(config, request, lifecycle);

        assertThat(first.created()).isTrue();
        assertThat(whileInFlight.created()).isFalse();
        assertThat(whileInFlight.job().id()).isEqualTo(first.job().id());
        assertThat(next.created()).isTrue();
        assertThat(next.job().id()).isNotEqualTo(first.job().id());
    }

    /** The slot is the patient's, whatever else a trigger carries; a retrieval adopted by its id holds none. */
    @Test
    void everyNewJobOfAPatientHoldsThePatientsSlot() {
        HealthexJobs jobs = new HealthexJobs(Map.of("hx", RetrievalWatchTest.SOURCE), null, null, null);
        NewJob api = jobs.newJob(RetrievalWatchTest.SOURCE, "pat-1", "ext-1", "api:a", null, Boolean.TRUE);
        NewJob kickOff = jobs.newJob(RetrievalWatchTest.SOURCE, "pat-1", "other", "kickoff:b", null, null);
        NewJob otherPatient = jobs.newJob(RetrievalWatchTest.SOURCE, "pat-2", "ext-1", "api:a", null, Boolean.TRUE);
        NewJob retrieval = jobs.newJob(RetrievalWatchTest.SOURCE, "pat-1", "ext-1", "retrieval:r-1", "r-1", null);

        assertThat(kickOff.dedupKey()).isEqualTo(api.dedupKey());
        assertThat(otherPatient.dedupKey()).isNotEqualTo(api.dedupKey());
        assertThat(retrieval.slot()).isNull();
        assertThat(retrieval.dedupKey()).isNotEqualTo(api.dedupKey());
    }

    /** The lifecycle of one relay ({@code owner}) on {@code store}, with the test's source. */
    private static JobLifecycle lifecycle(JobStore store, SourceConfig config, String owner) {
        return new JobLifecycle(store, new Sources(List.of(config)), owner, Duration.ofMinutes(1), 10, JobEvents.NONE);
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
