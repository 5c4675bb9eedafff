package org.healthexport.relay.job;

import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What every job store must do; run against H2 and PostgreSQL by the subclasses. */
abstract class JobStoreContract {
    final MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.MILLIS));
    HikariDataSource dataSource;
    JobStore store;

    abstract String url();

    @BeforeEach
    void open() {
        dataSource = TestDatabases.migrated(url());
        store = new JobStore(dataSource, clock);
    }

    @AfterEach
    void close() {
        dataSource.close();
    }

    ExportJob newJob(String statusUrl) {
        return store.adopt(new NewJob("src", "fhir-bulk", null, statusUrl, null, Map.of("k", "v")),
                JobState.SUBMITTED, clock.instant(), clock.instant().plus(Duration.ofHours(1))).job();
    }

    @Test
    void aJobKeepsEveryRecordedField() {
        ExportJob job = newJob("https://x/jobs/1");
        Instant tx = clock.instant().minusSeconds(60);
        store.update(job, null, JobUpdate.to(JobState.RUNNING).vendorStatus("in-progress").progress("50%")
                .attempts(3).lastError("boom").requestId("req-1").transactionTime(tx)
                .expiresAt(tx.plusSeconds(3600)).attribute("retrievalId", "r1"), true);
        ExportJob read = store.get(job.id());
        assertThat(read.state()).isEqualTo(JobState.RUNNING);
        assertThat(read.sourceId()).isEqualTo("src");
        assertThat(read.kind()).isEqualTo("fhir-bulk");
        assertThat(read.statusUrl()).isEqualTo("https://x/jobs/1");
        assertThat(read.vendorStatus()).isEqualTo("in-progress");
        assertThat(read.progress()).isEqualTo("50%");
        assertThat(read.attempts()).isEqualTo(3);
        assertThat(read.lastError()).isEqualTo("boom");
        assertThat(read.requestId()).isEqualTo("req-1");
        assertThat(read.transactionTime()).isEqualTo(tx);
        assertThat(read.expiresAt()).isEqualTo(tx.plusSeconds(3600));
        assertThat(read.attributes()).containsEntry("k", "v").containsEntry("retrievalId", "r1");
        assertThat(read.createdAt()).isNotNull();
        assertThat(read.updatedAt()).isNotNull();
    }

    @Test
    void anUpdateReturnsTheJobAsStoredWithoutReadingItBack() {
        ExportJob job = newJob("https://x/jobs/1");
        clock.advance(Duration.ofNanos(1_234_567)); // finer than the store keeps
        ExportJob running = store.update(job, null, JobUpdate.to(JobState.RUNNING).vendorStatus("in-progress")
                .progress("50%").attempts(2).lastError("slow").requestId("req-1").statusUrl("https://x/jobs/1b")
                .vendorJobId("v-1").requestUrl("https://x/$export").transactionTime(clock.instant().minusSeconds(5))
                .expiresAt(clock.instant().plusSeconds(3600)).nextPollAt(clock.instant().plusMillis(1500))
                .attribute("retrievalId", "r1"), true);
        assertThat(running).isEqualTo(store.get(job.id()));

        clock.advance(Duration.ofSeconds(1));
        ExportJob ready = store.update(running, null, JobUpdate.to(JobState.READY).clearLastError()
                .attribute("k", null).attribute("folder", "f"), false);
        assertThat(ready).isEqualTo(store.get(job.id()));
        assertThat(ready.lastError()).isNull();
        assertThat(ready.attributes()).containsOnly(Map.entry("retrievalId", "r1"), Map.entry("folder", "f"));
        assertThat(ready.updatedAt()).isAfter(running.updatedAt());
    }

    /** Every poll clears flags the job rarely has; the attributes are written only when that changes them. */
    @Test
    void clearingAFlagTheJobLacksKeepsItsAttributesAndAnOlderCopyStillClearsOneSetSince() {
        ExportJob copy = newJob("https://x/jobs/1");
        ExportJob polled = store.update(copy, null, JobUpdate.to(JobState.RUNNING).attribute("authRetried", null), true);
        assertThat(polled).isEqualTo(store.get(copy.id()));
        assertThat(polled.attributes()).containsOnly(Map.entry("k", "v"));

        // another step stored the flag since; an update from the older copy that clears it clears it in the store
        store.update(polled, null, JobUpdate.keepState().attribute("authRetried", "true"), false);
        ExportJob cleared = store.update(polled, null, JobUpdate.keepState().attribute("authRetried", null), true);
        assertThat(cleared).isEqualTo(store.get(copy.id()));
        assertThat(cleared.attributes()).containsOnly(Map.entry("k", "v"));
    }

    @Test
    void aStepHoldingAnOlderCopyNeitherLosesNorRevertsWhatWasStoredSince() {
        ExportJob copy = newJob("https://x/jobs/1");
        // another step of the same exchange stored this; the route kept the older copy (same clock tick too)
        store.update(copy, "relay-a", JobUpdate.keepState().vendorJobId("v-1").attribute("folder", "f"), false);

        ExportJob after = store.update(copy, "relay-a", JobUpdate.to(JobState.RUNNING).attribute("pages", "3"), true);
        assertThat(after).isEqualTo(store.get(copy.id()));
        assertThat(after.vendorJobId()).isEqualTo("v-1");
        assertThat(after.attributes()).containsOnly(Map.entry("k", "v"), Map.entry("folder", "f"), Map.entry("pages", "3"));

        // an older copy never gets past the lease guard either
        store.claimDue("relay-b", Duration.ofSeconds(30), 10);
        assertThatThrownBy(() -> store.update(copy, "relay-a", JobUpdate.to(JobState.FAILED), true))
                .isInstanceOf(LeaseLostException.class);
        assertThat(store.get(copy.id()).state()).isEqualTo(JobState.RUNNING);
    }

    @Test
    void adoptingTheSameExportTwiceGivesOneJob() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<JobStore.Adoption>> results = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            results.add(pool.submit(() -> store.adopt(new NewJob("src", "fhir-bulk", null, "https://x/jobs/same", null,
                    Map.of()), JobState.SUBMITTED, clock.instant(), null)));
        }
        Set<String> ids = new HashSet<>();
        int created = 0;
        for (Future<JobStore.Adoption> r : results) {
            ids.add(r.get().job().id());
            created += r.get().created() ? 1 : 0;
        }
        pool.shutdown();
        assertThat(ids).hasSize(1);
        assertThat(created).isEqualTo(1);
        assertThat(store.list(null, 100)).hasSize(1);
    }

    @Test
    void aSlotIsHeldByOneJobAtATimeUntilThatJobEnds() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<JobStore.Adoption>> racing = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Map<String, String> attributes = Map.of("trigger", "t-" + i); // eight different jobs, one slot
            racing.add(pool.submit(() -> store.adopt(new NewJob("src", "healthex", null, null, null, attributes)
                    .holdingSlot("patient:p-1"), JobState.SUBMITTED, clock.instant(), null)));
        }
        Set<String> ids = new HashSet<>();
        for (Future<JobStore.Adoption> r : racing) {
            ids.add(r.get().job().id());
        }
        pool.shutdown();
        assertThat(ids).hasSize(1);
        ExportJob holder = store.get(ids.iterator().next());

        NewJob otherPatient = new NewJob("src", "healthex", null, null, null, Map.of()).holdingSlot("patient:p-2");
        assertThat(store.adopt(otherPatient, JobState.SUBMITTED, clock.instant(), null).created()).isTrue();
        store.update(holder, null, JobUpdate.to(JobState.FAILED).lastError("boom"), true);
        NewJob next = new NewJob("src", "healthex", null, null, null, Map.of("trigger", "t-9")).holdingSlot("patient:p-1");
        JobStore.Adoption after = store.adopt(next, JobState.SUBMITTED, clock.instant(), null);
        assertThat(after.created()).isTrue();
        assertThat(after.job().id()).isNotEqualTo(holder.id());
    }

    @Test
    void activeJobsWithAnAttributeValueAreTheActiveOnesWithExactlyThatValue() {
        ExportJob wanted = withAttributes("https://x/jobs/a1", Map.of("patient", "a_1%", "other", "x"));
        withAttributes("https://x/jobs/a2", Map.of("patient", "ab1%")); // "_" is not a wildcard here
        withAttributes("https://x/jobs/a3", Map.of("patient", "a_1%0")); // nor is the value a prefix
        withAttributes("https://x/jobs/a4", Map.of("other", "a_1%", "patientId", "a_1%")); // another key's value
        ExportJob ended = withAttributes("https://x/jobs/a5", Map.of("patient", "a_1%"));
        store.update(ended, null, JobUpdate.to(JobState.DELIVERED), true);
        ExportJob elsewhere = store.adopt(new NewJob("other-src", "fhir-bulk", null, "https://x/jobs/a6", null,
                Map.of("patient", "a_1%")), JobState.SUBMITTED, clock.instant(), null).job();

        assertThat(store.activeJobsWith("src", "patient", "a_1%")).extracting(ExportJob::id).containsExactly(wanted.id());
        assertThat(store.activeJobsWith("other-src", "patient", "a_1%")).extracting(ExportJob::id)
                .containsExactly(elsewhere.id());
        assertThat(store.activeJobsWith("src", "patient", "nobody")).isEmpty();
    }

    private ExportJob withAttributes(String statusUrl, Map<String, String> attributes) {
        return store.adopt(new NewJob("src", "fhir-bulk", null, statusUrl, null, attributes), JobState.SUBMITTED,
                clock.instant(), null).job();
    }

    @Test
    void anEndedJobIsStillTheOneJobOfItsExport() {
        ExportJob job = newJob("https://x/jobs/1");
        store.update(job, null, JobUpdate.to(JobState.DELIVERED), true);
        JobStore.Adoption again = store.adopt(new NewJob("src", "fhir-bulk", null, "https://x/jobs/1", null,
                Map.of()), JobState.SUBMITTED, clock.instant(), null);
        assertThat(again.created()).isFalse();
        assertThat(again.job().id()).isEqualTo(job.id());
    }

    @Test
    void onlyDueJobsAreClaimedAndALeasedJobIsNotClaimedAgain() {
        ExportJob due = newJob("https://x/jobs/due");
        ExportJob later = newJob("https://x/jobs/later");
        store.update(later, null, JobUpdate.keepState().nextPollAt(clock.instant().plusSeconds(60)), true);

        assertThat(store.claimDue("relay-a", Duration.ofSeconds(30), 10)).extracting(ExportJob::id).containsExactly(due.id());
        assertThat(store.claimDue("relay-b", Duration.ofSeconds(30), 10)).isEmpty();
        clock.advance(Duration.ofSeconds(61));
        // relay-a died: its lease on 'due' lapsed after 30 s, 'later' is now due too
        assertThat(store.claimDue("relay-b", Duration.ofSeconds(30), 10)).extracting(ExportJob::id)
                .containsExactlyInAnyOrder(due.id(), later.id());
    }

    @Test
    void terminalJobsAreNeverClaimed() {
        ExportJob job = newJob("https://x/jobs/done");
        store.update(job, null, JobUpdate.to(JobState.DELIVERED), true);
        assertThat(store.claimDue("relay-a", Duration.ofSeconds(30), 10)).isEmpty();
    }

    @Test
    void aRelayThatLostItsLeaseCannotUpdateTheJob() {
        ExportJob job = newJob("https://x/jobs/1");
        store.claimDue("relay-a", Duration.ofSeconds(10), 10);
        clock.advance(Duration.ofSeconds(11));
        assertThat(store.claimDue("relay-b", Duration.ofSeconds(10), 10)).hasSize(1);
        assertThatThrownBy(() -> store.update(job, "relay-a", JobUpdate.to(JobState.FAILED), true))
                .isInstanceOf(LeaseLostException.class);
        assertThat(store.renewLease(job.id(), "relay-a", Duration.ofSeconds(10))).isFalse();
        assertThat(store.update(job, "relay-b", JobUpdate.to(JobState.RUNNING), true).state()).isEqualTo(JobState.RUNNING);
    }

    @Test
    void concurrentClaimersShareTheWorkWithoutOverlap() throws Exception {
        for (int i = 0; i < 300; i++) {
            newJob("https://x/jobs/" + i);
        }
        ExecutorService pool = Executors.newFixedThreadPool(3);
        List<Callable<List<String>>> claimers = new ArrayList<>();
        for (String owner : List.of("relay-a", "relay-b", "relay-c")) {
            claimers.add(() -> {
                List<String> mine = new ArrayList<>();
                List<ExportJob> batch;
                while (!(batch = store.claimDue(owner, Duration.ofMinutes(5), 7)).isEmpty()) {
                    batch.forEach(j -> mine.add(j.id()));
                }
                return mine;
            });
        }
        List<String> all = new ArrayList<>();
        for (Future<List<String>> f : pool.invokeAll(claimers)) {
            all.addAll(f.get());
        }
        pool.shutdown();
        assertThat(all).hasSize(300).doesNotHaveDuplicates();
    }

    @Test
    void releasedJobsAreClaimableAtOnce() {
        newJob("https://x/jobs/1");
        store.claimDue("relay-a", Duration.ofMinutes(5), 10);
        assertThat(store.releaseAll("relay-a")).isEqualTo(1);
        assertThat(store.claimDue("relay-b", Duration.ofMinutes(5), 10)).hasSize(1);
    }

    @Test
    void leasesNoWorkerHoldsAreHandedBackAndTheOthersKept() {
        ExportJob working = newJob("https://x/jobs/working");
        newJob("https://x/jobs/orphan-1");
        newJob("https://x/jobs/orphan-2");
        assertThat(store.claimDue("relay-a", Duration.ofMinutes(5), 10)).hasSize(3);
        assertThat(store.releaseAllExcept("relay-a", List.of(working.id()))).isEqualTo(2);
        // the job relay-a works on stays its own
        assertThat(store.claimDue("relay-b", Duration.ofMinutes(5), 10)).extracting(ExportJob::statusUrl)
                .containsExactlyInAnyOrder("https://x/jobs/orphan-1", "https://x/jobs/orphan-2");
        assertThat(store.releaseAllExcept("relay-a", List.of())).isEqualTo(1);
    }

    @Test
    void aRefreshedManifestKeepsDeliveredFilesAndTakesNewUrls() {
        ExportJob job = newJob("https://x/jobs/1");
        List<JobFile> planned = store.planFiles(job.id(), List.of(
                JobFile.planned(1, "output", "Patient", "https://s3/a?sig=1", "k/Patient-1.ndjson"),
                JobFile.planned(2, "output", "Patient", "https://s3/b?sig=1", "k/Patient-2.ndjson")));
        store.fileDelivered(planned.get(0).id(), 10, "abc");
        List<JobFile> refreshed = store.planFiles(job.id(), List.of(
                JobFile.planned(1, "output", "Patient", "https://s3/a?sig=2", "k/Patient-1.ndjson"),
                JobFile.planned(2, "output", "Patient", "https://s3/b?sig=2", "k/Patient-2.ndjson")));
        assertThat(refreshed).hasSize(2);
        assertThat(refreshed.get(0).isDelivered()).isTrue();
        assertThat(refreshed.get(0).sha256()).isEqualTo("abc");
        assertThat(refreshed.get(1).url()).isEqualTo("https://s3/b?sig=2");
        assertThat(refreshed.get(1).isDelivered()).isFalse();
    }

    @Test
    void aScheduledFireTimeIsTakenOnce() {
        Instant fire = clock.instant().truncatedTo(ChronoUnit.MINUTES);
        assertThat(store.takeScheduledKickoff("src", fire)).isTrue();
        assertThat(store.takeScheduledKickoff("src", fire)).isFalse();
        assertThat(store.takeScheduledKickoff("src", fire.plusSeconds(60))).isTrue();
    }

    @Test
    void theLastTransactionTimeOnlyMovesForward() {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        assertThat(store.lastTransactionTime("src")).isEmpty();
        store.rememberTransactionTime("src", t);
        store.rememberTransactionTime("src", t.minusSeconds(10));
        assertThat(store.lastTransactionTime("src")).contains(t);
    }

    @Test
    void countsByState() {
        newJob("https://x/jobs/1");
        ExportJob b = newJob("https://x/jobs/2");
        store.update(b, null, JobUpdate.to(JobState.FAILED), true);
        assertThat(store.countByState()).containsEntry(JobState.SUBMITTED, 1L).containsEntry(JobState.FAILED, 1L)
                .containsEntry(JobState.DELIVERED, 0L);
    }

    @Test
    void countsByStateAndKind() {
        newJob("https://x/jobs/1");
        ExportJob b = newJob("https://x/jobs/2");
        store.adopt(new NewJob("other", "healthex", null, "https://y/jobs/1", null, Map.of()), JobState.SUBMITTED,
                clock.instant(), clock.instant().plus(Duration.ofHours(1)));
        store.update(b, null, JobUpdate.to(JobState.FAILED), true);
        Map<JobState, Map<String, Long>> counts = store.countByStateAndKind();
        assertThat(counts.get(JobState.SUBMITTED)).containsOnly(Map.entry("fhir-bulk", 1L), Map.entry("healthex", 1L));
        assertThat(counts.get(JobState.FAILED)).containsOnly(Map.entry("fhir-bulk", 1L));
        assertThat(counts).doesNotContainKey(JobState.DELIVERED);
    }
}
