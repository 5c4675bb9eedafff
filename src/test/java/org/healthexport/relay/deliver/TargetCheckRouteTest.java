package org.healthexport.relay.deliver;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.testing.CapturedLogs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The packaged check-target route against S3Proxy with a bucket that does not exist: the relay starts and runs,
 * and says once, at WARN, why its target is not confirmed, without the secret key.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:target-check-route;DB_CLOSE_DELAY=-1",
        "relay.target.kind=s3",
        "relay.target.s3.bucket=not-made-yet",
        "relay.target.s3.endpoint={{sys:test.s3.endpoint}}",
        "relay.target.s3.path-style=true",
        "relay.target.s3.access-key=" + S3ProxyServer.ACCESS_KEY,
        "relay.target.s3.secret-key=" + S3ProxyServer.SECRET_KEY,
        "relay.target.check-delay=100"
})
class TargetCheckRouteTest {
    private static final S3ProxyServer S3;
    private static final CapturedLogs LOGS;

    static {
        try {
            S3 = S3ProxyServer.start();
            System.setProperty("test.s3.endpoint", S3.endpoint().toString());
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
        LOGS = CapturedLogs.start();
    }

    @BeanInject
    CamelContext context;

    @AfterAll
    static void stop() throws Exception {
        LOGS.close();
        S3.close();
        System.clearProperty("test.s3.endpoint");
    }

    @Test
    void aMissingBucketIsSaidOnceAtStartAndTheRelayRunsOn() {
        await().atMost(Duration.ofSeconds(30)).until(() -> !checkLines().isEmpty());

        assertThat(checkLines()).singleElement().satisfies(line -> {
            assertThat(line.getLevel()).isEqualTo(Level.WARN);
            assertThat(line.getFormattedMessage()).isEqualTo("Delivery target not confirmed: S3 bucket"
                    + " s3://not-made-yet at " + S3.endpoint() + " does not exist (HeadBucket answered 404);"
                    + " deliveries retry until it answers");
        });
        assertThat(context.getStatus()).isEqualTo(ServiceStatus.Started);
        assertThat(context.getRouteController().getRouteStatus("check-target")).isEqualTo(ServiceStatus.Started);
        assertThat(LOGS.events()).allSatisfy(e -> assertThat(e.getFormattedMessage()).doesNotContain(S3ProxyServer.SECRET_KEY));
    }

    private static List<ILoggingEvent> checkLines() {
        return LOGS.events().stream().filter(e -> e.getFormattedMessage().startsWith("Delivery target ")).toList();
    }
}
