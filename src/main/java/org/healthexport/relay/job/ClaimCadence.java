package org.healthexport.relay.job;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * When a tick of the poll route's timer (every {@code relay.poll.busy-interval}) asks the store for due jobs:
 * at every tick while the last claim found some, so a busy relay's workers get the next due jobs as soon as they
 * have room; once per {@code relay.poll.interval} after a claim found none (or the store failed), so an idle
 * relay runs a few cheap queries a second, not fifty.
 */
public final class ClaimCadence {
    private final long idleNanos;
    private final LongSupplier nanoTime;
    private volatile boolean lastFoundJobs = true;
    private volatile long lastClaimAt;

    public ClaimCadence(Duration idleInterval) {
        this(idleInterval, System::nanoTime);
    }

    ClaimCadence(Duration idleInterval, LongSupplier nanoTime) {
        this.idleNanos = idleInterval.toNanos();
        this.nanoTime = nanoTime;
        this.lastClaimAt = nanoTime.getAsLong() - idleNanos;
    }

    /** A cadence that asks at every tick: the timer's period is the only interval. */
    public static ClaimCadence everyTick() {
        return new ClaimCadence(Duration.ZERO);
    }

    /** True when this tick should ask the store. */
    public boolean claimNow() {
        return lastFoundJobs || nanoTime.getAsLong() - lastClaimAt >= idleNanos;
    }

    /** What the claim this tick made found: {@code found} due jobs (0 when the store could not be asked). */
    public void claimed(int found) {
        lastFoundJobs = found > 0;
        lastClaimAt = nanoTime.getAsLong();
    }
}
