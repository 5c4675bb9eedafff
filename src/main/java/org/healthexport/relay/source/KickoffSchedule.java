package org.healthexport.relay.source;

import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.JobStore;
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
            checkedUntil.put(id, now);
            if (fire != null && store.takeScheduledKickoff(id, fire)) {
                LOG.info("Scheduled kick-off of source {} for {}", id, fire);
                due.add(id);
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
     * True when the source may start an export now: a source with {@code single-export=true} (Oracle allows one
     * per client and tenant) waits while one of its exports is still active.
     */
    public boolean mayKickOff(String sourceId) {
        SourceConfig s = sources.get(sourceId);
        return !s.flag("single-export", false) || store.activeJobsOf(sourceId).isEmpty();
    }
}
