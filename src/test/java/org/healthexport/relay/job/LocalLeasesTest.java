package org.healthexport.relay.job;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class LocalLeasesTest {
    final Instant now = Instant.parse("2026-11-30T12:00:00Z");
    final LocalLeases leases = new LocalLeases();

    static ExportJob job(String id, Instant updatedAt) {
        return new ExportJob(id, "src", "fhir-bulk", null, "https://x/jobs/" + id, JobState.RUNNING, null, null,
                updatedAt, null, 0, null, null, null, null, null, Map.of(), updatedAt, updatedAt);
    }

    @Test
    void onlyADatabaseNoOtherProcessCanOpenKeepsItsLeasesInMemory() {
        assertThat(LocalLeases.sufficeFor("jdbc:h2:file:./data/relay-store")).isTrue();
        assertThat(LocalLeases.sufficeFor("jdbc:h2:./data/relay-store;MODE=PostgreSQL")).isTrue();
        assertThat(LocalLeases.sufficeFor("jdbc:h2:mem:store;DB_CLOSE_DELAY=-1")).isTrue();
        assertThat(LocalLeases.sufficeFor("jdbc:h2:file:./data/relay-store;AUTO_SERVER=TRUE")).isFalse();
        assertThat(LocalLeases.sufficeFor("jdbc:h2:file:./data/relay-store;auto_server = true")).isFalse();
        assertThat(LocalLeases.sufficeFor("jdbc:h2:tcp://db:9092/relay")).isFalse();
        assertThat(LocalLeases.sufficeFor("jdbc:h2:ssl://db:9092/relay")).isFalse();
        assertThat(LocalLeases.sufficeFor("jdbc:postgresql://127.0.0.1:5432/relay")).isFalse();
    }

    @Test
    void aLeaseIsTakenOnceUntilItLapsesAndOnlyItsOwnerRenewsOrReleasesIt() {
        ExportJob a = job("a", now);
        assertThat(leases.take(a, "relay-a", now, now.plusSeconds(10))).isTrue();
        assertThat(leases.take(a, "relay-b", now.plusSeconds(10), now.plusSeconds(20))).isFalse(); // not lapsed yet
        assertThat(leases.renew("a", "relay-b", now.plusSeconds(30))).isFalse();
        assertThat(leases.renew("a", "relay-a", now.plusSeconds(30))).isTrue();
        assertThat(leases.take(a, "relay-b", now.plusSeconds(20), now.plusSeconds(40))).isFalse(); // renewed
        assertThat(leases.allows("a", "relay-b")).isFalse();
        assertThat(leases.allows("a", "relay-a")).isTrue();
        leases.giveBack("a", "relay-b", now);
        assertThat(leases.allows("a", "relay-b")).isFalse();
        leases.giveBack("a", "relay-a", now);
        assertThat(leases.allows("a", "relay-b")).isTrue();
        assertThat(leases.take(a, "relay-b", now, now.plusSeconds(10))).isTrue();
    }

    @Test
    void aLapsedLeaseIsTakenOverAndStillRefusesItsFormerOwnersUpdates() {
        ExportJob a = job("a", now);
        leases.take(a, "relay-a", now, now.plusSeconds(10));
        assertThat(leases.take(a, "relay-b", now.plusSeconds(11), now.plusSeconds(21))).isTrue();
        assertThat(leases.allows("a", "relay-a")).isFalse();
        assertThat(leases.renew("a", "relay-a", now.plusSeconds(30))).isFalse();
    }

    @Test
    void aJobGivenBackAfterAStepIsRefusedToAClaimHoldingTheRowFromBefore() {
        ExportJob before = job("a", now);
        leases.take(before, "relay-a", now, now.plusSeconds(60));
        Instant stepStored = now.plusMillis(5);
        leases.giveBack("a", "relay-a", stepStored);
        assertThat(leases.allows("a", "relay-b")).isTrue();
        // a claim that read the job before the step's update landed: its copy still shows the old next poll time
        assertThat(leases.take(before, "relay-a", now.plusMillis(6), now.plusSeconds(60))).isFalse();
        // a claim that read the row as the step left it takes it, and the job is no longer remembered
        assertThat(leases.take(job("a", stepStored), "relay-a", now.plusMillis(7), now.plusSeconds(60))).isTrue();
        assertThat(leases.remembered()).isZero();
    }

    @Test
    void anUpdateOutsideAStepEndsTheLeaseWhoeverHoldsIt() {
        leases.take(job("a", now), "relay-a", now, now.plusSeconds(60));
        leases.giveBack("a", "relay-b", now.plusMillis(1));
        assertThat(leases.allows("a", "relay-b")).isFalse();
        leases.giveBack("a", null, now.plusMillis(1));
        assertThat(leases.allows("a", "relay-b")).isTrue();
    }

    @Test
    void releasingAllButTheJobsInHandCountsWhatWasHandedBack() {
        for (String id : List.of("a", "b", "c")) {
            leases.take(job(id, now), "relay-a", now, now.plusSeconds(60));
        }
        leases.take(job("d", now), "relay-b", now, now.plusSeconds(60));
        assertThat(leases.held()).isEqualTo(4);
        assertThat(leases.releaseAllExcept("relay-a", List.of("b"))).isEqualTo(2);
        assertThat(leases.allows("a", "relay-b")).isTrue();
        assertThat(leases.allows("b", "relay-b")).isFalse();
        assertThat(leases.allows("d", "relay-a")).isFalse();
        assertThat(leases.held()).isEqualTo(2);
    }

    @Test
    void jobsGivenBackAreForgottenOnceTheirLeaseWouldHaveLapsed() {
        leases.take(job("a", now), "relay-a", now, now.plusSeconds(60));
        leases.giveBack("a", "relay-a", now.plusSeconds(1));
        leases.forgetLapsed(now.plusSeconds(30));
        assertThat(leases.remembered()).isEqualTo(1);
        leases.forgetLapsed(now.plusSeconds(61));
        assertThat(leases.remembered()).isZero();
    }
}
