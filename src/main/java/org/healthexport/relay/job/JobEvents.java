package org.healthexport.relay.job;

/** What the job state machine reports as it goes: metrics and notifications listen here. */
public interface JobEvents {
    default void claimed(int count) { }

    default void stateChanged(ExportJob job, JobState from, JobState to, String reason) { }

    default void retried(ExportJob job, String reason) { }

    default void tokenRenewed(ExportJob job) { }

    default void unknownStatus(ExportJob job) { }

    default void fileDelivered(ExportJob job, JobFile file, long bytes, String targetKind) { }

    JobEvents NONE = new JobEvents() { };
}
