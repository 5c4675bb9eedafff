package org.healthexport.relay.source;

import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.job.NewJob;

import java.util.Map;

/**
 * How a kind turns a {@code POST /api/jobs} body into a job: a status URL for Bulk Data, a job id for Oracle or
 * eHealth, a patient for HealthEx. Throws {@link IllegalArgumentException} with a clear message for bad input.
 */
public interface JobAdopter {
    NewJob adopt(SourceConfig source, Map<String, Object> request);
}
