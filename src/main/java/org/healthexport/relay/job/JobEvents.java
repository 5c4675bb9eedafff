package org.healthexport.relay.job;

import java.util.List;

/** What the job state machine reports as it goes: metrics and notifications listen here. */
public interface JobEvents {
    default void claimed(int count) { }

    default void stateChanged(ExportJob job, JobState from, JobState to, String reason) { }

    default void retried(ExportJob job, String reason) { }

    default void tokenRenewed(ExportJob job) { }

    default void unknownStatus(ExportJob job) { }

    /**
     * A fault or refusal of a source of this kind (a {@link FaultLine.Fault} label: rate-limited, transient, ...),
     * of a job or of a kick-off that made none.
     */
    default void fault(String kind, String fault) { }

    default void fileDelivered(ExportJob job, JobFile file, long bytes, String targetKind) { }

    /** NDJSON lines over relay.download.max-line-bytes in a file; {@code mode}: report (delivered) or refuse. */
    default void oversizedLines(ExportJob job, JobFile file, long lines, String mode) { }

    JobEvents NONE = new JobEvents() { };

    /** Tells every listener, in order. */
    static JobEvents all(List<JobEvents> listeners) {
        return new JobEvents() {
            @Override
            public void claimed(int count) { listeners.forEach(l -> l.claimed(count)); }

            @Override
            public void stateChanged(ExportJob job, JobState from, JobState to, String reason) {
                listeners.forEach(l -> l.stateChanged(job, from, to, reason));
            }

            @Override
            public void retried(ExportJob job, String reason) { listeners.forEach(l -> l.retried(job, reason)); }

            @Override
            public void tokenRenewed(ExportJob job) { listeners.forEach(l -> l.tokenRenewed(job)); }

            @Override
            public void unknownStatus(ExportJob job) { listeners.forEach(l -> l.unknownStatus(job)); }

            @Override
            public void oversizedLines(ExportJob job, JobFile file, long lines, String mode) {
                listeners.forEach(l -> l.oversizedLines(job, file, lines, mode));
            }

            @Override
            public void fault(String kind, String fault) {
                listeners.forEach(l -> l.fault(kind, fault));
            }

            @Override
            public void fileDelivered(ExportJob job, JobFile file, long bytes, String targetKind) {
                listeners.forEach(l -> l.fileDelivered(job, file, bytes, targetKind));
            }
        };
    }
}
