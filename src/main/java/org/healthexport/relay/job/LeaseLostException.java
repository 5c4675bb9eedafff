package org.healthexport.relay.job;

/** Another relay took the job over (our lease lapsed): this relay must drop its work on it. */
public class LeaseLostException extends RuntimeException {
    public LeaseLostException(String jobId) {
        super("Lease on job " + jobId + " was lost to another relay");
    }
}
