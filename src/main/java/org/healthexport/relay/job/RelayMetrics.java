package org.healthexport.relay.job;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The relay's own metrics on Micrometer (served on /observe/metrics): jobs by state, polls, retries, token
 * renewals, unknown statuses, files and bytes delivered by target, jobs by state and kind, delivery latency
 * (READY to DELIVERED, from the job attribute {@code readyAt} that {@link JobLifecycle#ready} sets).
 */
public class RelayMetrics implements JobEvents {
    private final MeterRegistry registry;
    private final Map<JobState, AtomicLong> byState = new ConcurrentHashMap<>();
    private final JobStore store;
    /** relay_jobs_by_kind{state,kind}: registered as kinds appear, kept (at 0) once seen. */
    private final Map<String, AtomicLong> byStateAndKind = new ConcurrentHashMap<>();

    public RelayMetrics(MeterRegistry registry, JobStore store) {
        this.registry = registry;
        this.store = store;
        for (JobState s : JobState.values()) {
            AtomicLong value = new AtomicLong();
            byState.put(s, value);
            Gauge.builder("relay_jobs", value, AtomicLong::get).description("Jobs in the store by state")
                    .tag("state", s.name()).register(registry);
        }
        // no refresh() here: the store may still be migrating; the relay refreshes once it is up
    }

    /** Re-reads the counts by state from the store (called on a timer: the store is shared by all replicas). */
    public void refresh() {
        Map<JobState, Map<String, Long>> counts;
        try {
            counts = store.countByStateAndKind();
        } catch (StoreException e) {
            return; // the store is away (readiness says so): the gauges keep their last values
        }
        for (JobState s : JobState.values()) {
            Map<String, Long> kinds = counts.getOrDefault(s, Map.of());
            byState.get(s).set(kinds.values().stream().mapToLong(Long::longValue).sum());
            kinds.keySet().forEach(kind -> stateAndKind(s, kind));
        }
        byStateAndKind.forEach((key, value) -> {
            String[] sk = key.split("/", 2);
            value.set(counts.getOrDefault(JobState.valueOf(sk[0]), Map.of()).getOrDefault(sk[1], 0L));
        });
    }

    private AtomicLong stateAndKind(JobState state, String kind) {
        return byStateAndKind.computeIfAbsent(state.name() + "/" + kind, key -> {
            counters(kind);
            AtomicLong value = new AtomicLong();
            Gauge.builder("relay_jobs_by_kind", value, AtomicLong::get).description("Jobs in the store by state and kind")
                    .tag("state", state.name()).tag("kind", kind).register(registry);
            return value;
        });
    }

    /**
     * Registers a kind's counters at 0 as soon as the kind has jobs, so Prometheus' increase() sees the first
     * failure or unknown status (a counter created at 1 shows no increase).
     */
    private void counters(String kind) {
        for (JobState to : JobState.values()) {
            registry.counter("relay_job_transitions_total", "kind", kind, "to", to.name());
        }
        registry.counter("relay_retries_total", "kind", kind);
        registry.counter("relay_unknown_status_total", "kind", kind);
        for (FaultLine.Fault fault : FaultLine.Fault.values()) {
            registry.counter("relay_faults_total", "kind", kind, "fault", fault.label());
        }
    }

    @Override
    public void claimed(int count) {
        registry.counter("relay_jobs_claimed_total").increment(count);
    }

    @Override
    public void stateChanged(ExportJob job, JobState from, JobState to, String reason) {
        registry.counter("relay_job_transitions_total", "kind", job.kind(), "to", to.name()).increment();
        if (to == JobState.DELIVERED) {
            deliveryLatency(job);
        }
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

    /** relay_oversized_lines_total{kind,mode}: NDJSON lines over relay.download.max-line-bytes (mode report or refuse). */
    @Override
    public void oversizedLines(ExportJob job, JobFile file, long lines, String mode) {
        registry.counter("relay_oversized_lines_total", "kind", job.kind(), "mode", mode).increment(lines);
    }

    /** relay_faults_total{kind,fault}: every fault and refusal, as its job.fault log line names it. */
    @Override
    public void fault(String kind, String fault) {
        registry.counter("relay_faults_total", "kind", kind, "fault", fault).increment();
    }

    @Override
    public void fileDelivered(ExportJob job, JobFile file, long bytes, String targetKind) {
        Counter.builder("relay_files_delivered_total").tag("target", targetKind).register(registry).increment();
        Counter.builder("relay_bytes_delivered_total").tag("target", targetKind).register(registry)
                .increment(bytes);
    }

    /** relay_delivery_latency_seconds{kind}: from the last time the job became READY to DELIVERED. */
    private void deliveryLatency(ExportJob job) {
        String readyAt = job.attribute("readyAt");
        if (readyAt == null) {
            return;
        }
        try {
            Instant end = job.updatedAt() != null ? job.updatedAt() : Instant.now();
            Duration latency = Duration.between(Instant.parse(readyAt), end);
            Timer.builder("relay_delivery_latency").description("Time from READY to DELIVERED")
                    .tag("kind", job.kind()).publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofSeconds(1)).maximumExpectedValue(Duration.ofHours(12))
                    .register(registry).record(latency.isNegative() ? Duration.ZERO : latency);
        } catch (RuntimeException e) {
            // not a time the relay wrote: no sample (a metric never breaks a job's flow)
        }
    }

    /** Route step: counts one status poll by its HTTP answer. */
    public void polled(@ExchangeProperty("job") ExportJob job, @Header("CamelHttpResponseCode") Integer code) {
        registry.counter("relay_polls_total", "kind", job.kind(), "code", String.valueOf(code)).increment();
    }
}
