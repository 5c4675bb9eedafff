package org.healthexport.relay.source;

import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.StoreException;
import org.quartz.CronExpression;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.text.ParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which sources are due a kick-off: those whose cron {@code schedule} (Quartz syntax, UTC unless
 * {@code schedule-zone}) has fired since the last check, taken through the store so that with several replicas
 * each fire time starts one export, not one per relay. Also the sources that kick off once at startup.
 */
public class KickoffSchedule {
    private static final Logger LOG = LoggerFactory.getLogger(KickoffSchedule.class);
    private final Sources sources;
    private final JobStore store;
    private final Map<String, CronExpression> crons = new ConcurrentHashMap<>();
    private final Map<String, Instant> checkedUntil = new ConcurrentHashMap<>();

    public KickoffSchedule(Sources sources, JobStore store) {
        this.sources = sources;
        this.store = store;
        Instant now = store.now();
        for (SourceConfig s : sources.all()) {
            s.property("schedule").ifPresent(expr -> {
                try {
                    CronExpression cron = new CronExpression(expr);
                    cron.setTimeZone(TimeZone.getTimeZone(s.property("schedule-zone", "UTC")));
                    crons.put(s.id(), cron);
                    checkedUntil.put(s.id(), now);
                } catch (ParseException e) {
                    throw new ConfigurationException("Source " + s.id() + ": schedule '" + expr
                            + "' is not a Quartz cron expression (" + e.getMessage() + ")");
                }
            });
        }
    }

    /** Source ids whose schedule fired since the last call and whose fire time this relay took. */
    public List<String> dueSources() {
        Instant now = store.now();
        List<String> due = new ArrayList<>();
        crons.forEach((id, cron) -> {
            Instant from = checkedUntil.get(id);
            Date next = cron.getNextValidTimeAfter(Date.from(from));
            Instant fire = null;
            while (next != null && !next.toInstant().isAfter(now)) {
                fire = next.toInstant();
                next = cron.getNextValidTimeAfter(next);
            }
            if (fire == null) {
                checkedUntil.put(id, now);
                return;
            }
            try {
                if (store.takeScheduledKickoff(id, fire)) {
                    LOG.info("Scheduled kick-off of source {} for {}", id, fire);
                    due.add(id);
                }
                checkedUntil.put(id, now); // taken here or by another relay: this fire time is done
            } catch (StoreException e) {
                // not marked as checked: the fire time is tried again at the next tick, not lost for the night
                LOG.warn("Scheduled kick-off of source {} for {} waits: the job store did not answer ({})", id, fire,
                        e.getMessage());
            }
        });
        return due;
    }

    /** Sources with {@code kickoff-on-start=true} and no export in flight (a restart does not start another). */
    public List<String> startupSources() {
        return sources.all().stream().filter(s -> s.flag("kickoff-on-start", false))
                .filter(s -> store.activeJobsOf(s.id()).isEmpty()).map(SourceConfig::id).toList();
    }

    /**
     * True when the kick-off route of the source may be called now. A source with {@code single-export=true}
     * (Oracle allows one export per client and tenant) waits while an export of its lock group is active,
     * unless it has {@code queue-when-busy=true}: then its kind's route queues the kick-off as a job that starts
     * when the group is free ({@link #mayStart}).
     */
    public boolean mayKickOff(String sourceId) {
        SourceConfig s = sources.get(sourceId);
        if (!s.flag("single-export", false) || s.flag("queue-when-busy", false)) {
            return true;
        }
        return blocking(sourceId, null).isEmpty();
    }

    /**
     * For a kick-off queued as job {@code jobId}: true when no other export of the source's lock group is
     * active and no kick-off of the group was queued before it (first come, first started).
     */
    public boolean mayStart(String sourceId, String jobId) {
        return !sources.get(sourceId).flag("single-export", false) || blocking(sourceId, jobId).isEmpty();
    }

    /** Why a queued kick-off waits: the exports (or older queued kick-offs) of its lock group ahead of it. */
    public List<ExportJob> blocking(String sourceId, String jobId) {
        SourceConfig s = sources.get(sourceId);
        String key = lockKey(s);
        ExportJob self = jobId == null ? null : store.find(jobId).orElse(null);
        List<ExportJob> ahead = new ArrayList<>();
        for (SourceConfig other : sources.all()) {
            if (!other.id().equals(s.id()) && !(other.flag("single-export", false) && lockKey(other).equals(key))) {
                continue;
            }
            for (ExportJob j : store.activeJobsOf(other.id())) {
                if (j.id().equals(jobId)) {
                    continue;
                }
                boolean started = j.statusUrl() != null;
                if (self == null || started || queuedBefore(j, self)) {
                    ahead.add(j);
                }
            }
        }
        return ahead;
    }

    private static boolean queuedBefore(ExportJob a, ExportJob b) {
        int byTime = a.createdAt().compareTo(b.createdAt());
        return byTime != 0 ? byTime < 0 : a.id().compareTo(b.id()) < 0;
    }

    /**
     * The unit a vendor allows one export for: {@code export-lock} when set, else the client id at the base URL
     * (Oracle: client application + tenant), else the source alone.
     */
    public static String lockKey(SourceConfig s) {
        return s.property("export-lock").orElseGet(() -> s.property("auth.client-id")
                .map(client -> "client:" + client + "@" + s.baseUrl()).orElse("source:" + s.id()));
    }
}
