package org.healthexport.relay.job;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The relay's own metrics on Micrometer (served on /observe/metrics): jobs by state, polls, retries, token
 * renewals, unknown statuses, files and bytes delivered by target.
 */
public class RelayMetrics implements JobEvents {
    private final MeterRegistry registry;
    private final Map<JobState, AtomicLong> byState = new ConcurrentHashMap<>();
    private final JobStore store;

    public RelayMetrics(MeterRegistry registry, JobStore store) {
        this.registry = registry;
        this.store = store;
        for (JobState s : JobState.values()) {
            AtomicLong value = new AtomicLong();
            byState.put(s, value);
            Gauge.builder("relay_jobs", value, AtomicLong::get).description("Jobs in the store by state")
                    .tag("state", s.name()).register(registry);
        }
        refresh();
    }

    /** Re-reads the counts by state from the store (called on a timer: the store is shared by all replicas). */
    public void refresh() {
        store.countByState().forEach((s, n) -> byState.get(s).set(n));
    }

    @Override
    public void claimed(int count) {
        registry.counter("relay_jobs_claimed_total").increment(count);
    }

    @Override
    public void stateChanged(ExportJob job, JobState from, JobState to, String reason) {
        registry.counter("relay_job_transitions_total", "kind", job.kind(), "to", to.name()).increment();
    }

    @Override
    public void retried(ExportJob job, String reason) {
        registry.counter("relay_retries_total", "kind", job.kind()).increment();
    }

    @Override
    public void tokenRenewed(ExportJob job) {
        registry.counter("relay_token_renewals_total", "source", job.sourceId()).increment();
    }

    @Override
    public void unknownStatus(ExportJob job) {
        registry.counter("relay_unknown_status_total", "kind", job.kind()).increment();
    }

    @Override
    public void fileDelivered(ExportJob job, JobFile file, long bytes, String targetKind) {
        Counter.builder("relay_files_delivered_total").tag("target", targetKind).register(registry).increment();
        Counter.builder("relay_bytes_delivered_total").tag("target", targetKind).register(registry)
                .increment(bytes);
    }

    /** Route step: counts one status poll by its HTTP answer. */
    public void polled(@org.apache.camel.ExchangeProperty("job") ExportJob job,
                       @org.apache.camel.Header("CamelHttpResponseCode") Integer code) {
        registry.counter("relay_polls_total", "kind", job.kind(), "code", String.valueOf(code)).increment();
    }
}
