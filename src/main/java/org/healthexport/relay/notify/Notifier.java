package org.healthexport.relay.notify;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.healthexport.relay.deliver.DeliveryTarget;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobEvents;
import org.healthexport.relay.job.JobFile;
import org.healthexport.relay.job.JobState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Tells people when someone must act or a job ended badly: one JSON record per event under
 * {@code _notifications/} on the target and, with {@code relay.notify.webhook-url}, POSTed there with retries.
 * A record carries ids only (job, vendor, patient ids), never patient data or credentials.
 */
public class Notifier implements JobEvents {
    private static final Logger LOG = LoggerFactory.getLogger(Notifier.class);
    /** Job attributes safe to put in a notification: identifiers, not data. */
    static final Set<String> ID_ATTRIBUTES = Set.of("patientId", "healthexPatientId", "externalId", "projectId",
            "orgId", "retrievalId", "requestId", "logId");
    private static final Set<JobState> NOTIFIED = Set.of(JobState.ACTION_NEEDED, JobState.FAILED, JobState.EXPIRED);

    private final DeliveryTarget target;
    private final HttpClient http;
    private final URI webhook;
    private final int attempts;
    private final Clock clock;
    private final ScheduledExecutorService retries;
    private final ObjectMapper json = new ObjectMapper();

    public Notifier(DeliveryTarget target, HttpClient http, URI webhook, int attempts, Clock clock,
                    ScheduledExecutorService retries) {
        this.target = target;
        this.http = http;
        this.webhook = webhook;
        this.attempts = attempts;
        this.clock = clock;
        this.retries = retries;
    }

    /** Every job that becomes ACTION_NEEDED, FAILED or EXPIRED is notified, whatever its kind. */
    @Override
    public void stateChanged(ExportJob job, JobState from, JobState to, String reason) {
        if (NOTIFIED.contains(to)) {
            notify(job, to.name(), reason, job.attribute("suggestedAction") != null ? job.attribute("suggestedAction")
                    : defaultAction(to));
        }
    }

    @Override
    public void fileDelivered(ExportJob job, JobFile file, long bytes, String targetKind) {
    }

    static String defaultAction(JobState state) {
        return switch (state) {
            case ACTION_NEEDED -> "Someone must act at the source before the export can go on";
            case EXPIRED -> "Start a new export; the files of this one are no longer available";
            default -> "Check the reason; fix the configuration or the source, then start a new export";
        };
    }

    /** Writes and sends one notification; failures to notify are logged, never thrown into the job's flow. */
    public Map<String, Object> notify(ExportJob job, String state, String reason, String action) {
        Instant now = clock.instant();
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("source", job.sourceId());
        record.put("kind", job.kind());
        record.put("job", job.id());
        record.put("vendorJobId", job.vendorJobId());
        Map<String, String> ids = new LinkedHashMap<>();
        job.attributes().forEach((k, v) -> {
            if (ID_ATTRIBUTES.contains(k)) {
                ids.put(k, v);
            }
        });
        if (job.requestId() != null) {
            ids.putIfAbsent("requestId", job.requestId()); // the vendor's id of its last answer (Oracle opc-request-id)
        }
        record.put("ids", ids);
        record.put("state", state);
        record.put("reason", reason);
        record.put("suggestedAction", action);
        record.put("time", now.toString());
        try {
            byte[] bytes = json.writeValueAsBytes(record);
            String key = "_notifications/" + now.toString().substring(0, 10) + "/" + job.id() + "-" + state + "-"
                    + now.toEpochMilli() + ".json";
            target.put(key, new ByteArrayInputStream(bytes), bytes.length, "application/json");
            LOG.info("Notification for job {} ({}): {}", job.id(), state, reason);
            if (webhook != null) {
                post(bytes, 1);
            }
        } catch (Exception e) {
            LOG.error("Could not write the notification of job {}: {}", job.id(), e.toString());
        }
        return record;
    }

    private void post(byte[] body, int attempt) {
        HttpRequest request = HttpRequest.newBuilder(webhook).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
            boolean ok = error == null && response.statusCode() / 100 == 2;
            if (!ok && attempt < attempts) {
                long delay = (long) Math.min(300, Math.pow(2, attempt));
                retries.schedule(() -> post(body, attempt + 1), delay, TimeUnit.SECONDS);
            } else if (!ok) {
                LOG.error("Webhook refused a notification {} times; it stays under _notifications/ on the target",
                        attempts);
            }
        });
    }
}
