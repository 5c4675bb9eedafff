package org.healthexport.relay.source;

import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.NewJob;

import java.util.Map;

/**
 * How a kind turns a {@code POST /api/jobs} body into a job: a status URL for Bulk Data, a job id for Oracle or
 * eHealth, a patient for HealthEx. Throws {@link IllegalArgumentException} with a clear message for bad input.
 */
public interface JobAdopter {
    NewJob adopt(SourceConfig source, Map<String, Object> request);

    /**
     * Adopts and stores the job. A kind that answers a job in flight rather than describe a new one (HealthEx: one
     * job per patient at a time) overrides it.
     */
    default JobStore.Adoption submit(SourceConfig source, Map<String, Object> request, JobLifecycle jobs) {
        return jobs.submit(adopt(source, request));
    }
}
