package org.healthexport.relay.job;

import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.support.ScheduledPollConsumer;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The poll route's cadence on a relay with nothing due: a claim every relay.poll.interval (20 ms) would be fifty
 * store queries a second; after a claim that found nothing the scheduler skips relay.poll.idle-backoff (4) ticks,
 * so an idle relay claims about ten times a second. (PollSchedulerTest covers a busy relay: 1,000 due jobs.)
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:poll-cadence;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/poll-cadence",
        "relay.poll.start-delay=0"
})
class PollCadenceTest {
    @BeanInject
    CamelContext context;

    @Test
    void theScheduleIsTheConfiguredOne() {
        ScheduledPollConsumer consumer = (ScheduledPollConsumer) context.getRoute("poll-due-jobs").getConsumer();
        assertThat(consumer.getDelay()).isEqualTo(20);
        assertThat(consumer.getBackoffIdleThreshold()).isEqualTo(1);
        assertThat(consumer.getBackoffMultiplier()).isEqualTo(4);
    }

    /**
     * The claim route tells the scheduler it found nothing (CamelSchedulerPolledMessages), so the scheduler skips
     * ticks: its backoff counter moves. Were every tick a claim, it would stay at 0. Not timed.
     */
    @Test
    void anIdleRelaySkipsTicksBetweenClaims() {
        ScheduledPollConsumer consumer = (ScheduledPollConsumer) context.getRoute("poll-due-jobs").getConsumer();
        NotifyBuilder some = new NotifyBuilder(context).fromRoute("poll-due-jobs").whenDone(5).create();

        assertThat(some.matches(10, TimeUnit.SECONDS)).as("the relay claims").isTrue();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
                .until(() -> consumer.getBackoffCounter() > 0);
    }
}
