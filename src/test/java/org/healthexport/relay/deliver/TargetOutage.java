package org.healthexport.relay.deliver;

import org.apache.camel.ProducerTemplate;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Faults 6 and 7 of issue 8, the same for every target: an export kicked off while the target's server is down
 * waits DELIVERING (retried, at least twice) for a whole minute, then is delivered once the server is back.
 */
final class TargetOutage {
    static final Duration OUTAGE = Duration.ofMinutes(1);

    /** A server's stop or restart. */
    interface Step {
        void run() throws Exception;
    }

    private TargetOutage() {
    }

    /**
     * Stops the server, kicks off {@code source}, checks the waiting job with {@code whileDown} once the minute
     * is over, restarts the server and returns the job once DELIVERED.
     */
    static ExportJob exportThroughAMinuteDown(JobStore store, ProducerTemplate producer, String source, Step stop,
                                              Step restart, Consumer<ExportJob> whileDown) throws Exception {
        stop.run();
        Instant down = Instant.now();
        ExportJob job;
        try {
            job = producer.requestBody("direct:kickoff-source", source, ExportJob.class);
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                ExportJob now = store.get(job.id());
                return now.state() == JobState.DELIVERING && now.attempts() >= 2;
            });
            Thread.sleep(Math.max(0, OUTAGE.minus(Duration.between(down, Instant.now())).toMillis()));
            ExportJob waiting = store.get(job.id());
            assertThat(waiting.state()).isEqualTo(JobState.DELIVERING);
            whileDown.accept(waiting);
        } finally {
            restart.run();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> store.get(job.id()).state() == JobState.DELIVERED);
        return store.get(job.id());
    }
}
