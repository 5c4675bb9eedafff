package org.healthexport.relay.job;

import java.util.EnumSet;
import java.util.Set;

/** The canonical life of an export job, whatever the vendor calls its own states. */
public enum JobState {
    SUBMITTED, RUNNING, READY, DELIVERING, DELIVERED, ACTION_NEEDED, FAILED, EXPIRED, CANCELLED;

    /** States in which the relay still has work to do and claims the job when it is due. */
    public static final Set<JobState> ACTIVE = EnumSet.of(SUBMITTED, RUNNING, READY, DELIVERING);

    public boolean isTerminal() {
        return !ACTIVE.contains(this);
    }

    /** The job waits on the vendor: its status is polled. */
    public boolean isAwaitingStatus() {
        return this == SUBMITTED || this == RUNNING;
    }

    /** The vendor is done: the files are to be delivered. */
    public boolean isAwaitingDelivery() {
        return this == READY || this == DELIVERING;
    }
}
