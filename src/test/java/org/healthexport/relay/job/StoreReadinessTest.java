package org.healthexport.relay.job;

import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.h2.tools.Server;
import org.healthexport.relay.RelayApplication;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.SQLException;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The readiness endpoint the Kubernetes probe calls reports the job store: UP while it answers, DOWN (503) once
 * the database is gone, UP again when it is back; liveness stays UP throughout (no restart for a DB outage).
 * The store is an H2 database (a file under target/) behind its TCP server, so the test can take it away and bring it back.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.demo.enabled=false",
        "relay.target.file.dir=target/test-outbox/store-readiness",
        "relay.store.connect-timeout=2s",
        "relay.health.store-timeout=1s",
})
class StoreReadinessTest {
    static final String BASE_DIR = "target/store-readiness-" + java.util.UUID.randomUUID();
    static Server h2 = startH2(0);
    static final int H2_PORT = h2.getPort();

    static Server startH2(int port) {
        try {
            Server server = Server.createTcpServer("-tcpPort", String.valueOf(port), "-ifNotExists",
                    "-baseDir", BASE_DIR).start();
            // read by the relay's store configuration (system properties override application.properties)
            System.setProperty("relay.store.url",
                    "jdbc:h2:tcp://127.0.0.1:" + server.getPort() + "/./store");
            return server;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void stopH2() {
        h2.stop();
        System.clearProperty("relay.store.url");
    }

    @BeanInject
    CamelContext context;
    final HttpClient http = HttpClient.newHttpClient();

    HttpResponse<String> get(String path) throws Exception {
        int port = context.hasServices(VertxPlatformHttpServer.class).stream()
                .mapToInt(VertxPlatformHttpServer::getPort).filter(p -> p > 0).findFirst().orElseThrow();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HealthCheck.Result storeReadiness() {
        return HealthCheckHelper.invokeReadiness(context, "full").stream()
                .filter(r -> r.getCheck().getId().equals("store")).findFirst().orElseThrow();
    }

    @Test
    void readinessFollowsTheStoreAndLivenessDoesNot() throws Exception {
        assertThat(storeReadiness().getState()).isEqualTo(HealthCheck.State.UP);
        assertThat(storeReadiness().getCheck().isLiveness()).isFalse();
        assertThat(get("/observe/health/ready").statusCode()).isEqualTo(200);

        h2.stop();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            HttpResponse<String> ready = get("/observe/health/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).contains("store").contains("DOWN");
        });
        System.out.println("readiness while the store is down: " + get("/observe/health/ready").body());
        assertThat(get("/observe/health/live").statusCode()).isEqualTo(200);

        h2 = startH2(H2_PORT);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(get("/observe/health/ready").statusCode()).isEqualTo(200));
        assertThat(storeReadiness().getState()).isEqualTo(HealthCheck.State.UP);
    }
}
