package org.healthexport.relay.job;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class ClaimCadenceTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final ClaimCadence cadence = new ClaimCadence(Duration.ofMillis(100), now::get);

    @Test
    void theFirstTickClaims() {
        assertThat(cadence.claimNow()).isTrue();
    }

    @Test
    void whileClaimsFindJobsEveryTickClaims() {
        cadence.claimed(37);
        assertThat(cadence.claimNow()).isTrue();
        now.addAndGet(Duration.ofMillis(20).toNanos());
        cadence.claimed(1);
        assertThat(cadence.claimNow()).isTrue();
    }

    @Test
    void afterAClaimThatFoundNothingTheNextWaitsTheIdleInterval() {
        cadence.claimed(0);
        now.addAndGet(Duration.ofMillis(20).toNanos());
        assertThat(cadence.claimNow()).isFalse();
        now.addAndGet(Duration.ofMillis(79).toNanos());
        assertThat(cadence.claimNow()).isFalse();
        now.addAndGet(Duration.ofMillis(1).toNanos());
        assertThat(cadence.claimNow()).isTrue();

        cadence.claimed(5); // busy again: every tick
        now.addAndGet(Duration.ofMillis(20).toNanos());
        assertThat(cadence.claimNow()).isTrue();
    }

    @Test
    void everyTickNeverWaits() {
        ClaimCadence every = ClaimCadence.everyTick();
        every.claimed(0);
        assertThat(every.claimNow()).isTrue();
    }
}
