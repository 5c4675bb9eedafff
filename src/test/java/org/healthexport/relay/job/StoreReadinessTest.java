package org.healthexport.relay.job;

import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The readiness endpoint the Kubernetes probe calls reports the job store: UP while it answers, DOWN (503) once
 * the database is gone, UP again when it is back; liveness stays UP throughout (no restart for a DB outage).
 * The store is PostgreSQL, as in Kubernetes, under a role of its own: the outage is that role losing its login
 * and its sessions (as when the database restarts), the recovery is the login given back.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.demo.enabled=false",
        "relay.target.file.dir=target/test-outbox/store-readiness",
        "relay.store.connect-timeout=2s",
        "relay.health.store-timeout=1s",
})
class StoreReadinessTest {
    static final String ROLE = "relay_ready_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);

    static {
        admin("CREATE ROLE " + ROLE + " LOGIN", "CREATE SCHEMA " + ROLE + " AUTHORIZATION " + ROLE);
        String base = TestDatabases.postgresBaseUrl();
        // read by the relay's store configuration (system properties override application.properties)
        System.setProperty("relay.store.url", (base.contains("?") ? base.substring(0, base.indexOf('?')) : base)
                + "?currentSchema=" + ROLE);
        System.setProperty("relay.store.username", ROLE);
    }

    static void admin(String... statements) {
        try (Connection c = DriverManager.getConnection(TestDatabases.postgresBaseUrl())) {
            for (String sql : statements) {
                c.createStatement().execute(sql);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL at " + TestDatabases.postgresBaseUrl() + " is needed", e);
        }
    }

    static void storeDown() {
        admin("ALTER ROLE " + ROLE + " NOLOGIN",
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + ROLE + "'");
    }

    @AfterAll
    static void dropRole() {
        System.clearProperty("relay.store.url");
        System.clearProperty("relay.store.username");
        storeDown();
        admin("DROP SCHEMA " + ROLE + " CASCADE", "DROP ROLE " + ROLE);
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
        assertThat(context.getRegistry().lookupByNameAndType("jobStore", JobStore.class).isPostgres()).isTrue();
        assertThat(storeReadiness().getState()).isEqualTo(HealthCheck.State.UP);
        assertThat(storeReadiness().getCheck().isLiveness()).isFalse();
        assertThat(get("/observe/health/ready").statusCode()).isEqualTo(200);

        storeDown();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            HttpResponse<String> ready = get("/observe/health/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).contains("\"name\":\"store\"").contains("DOWN");
        });
        assertThat(get("/observe/health/live").statusCode()).isEqualTo(200);

        admin("ALTER ROLE " + ROLE + " LOGIN");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(get("/observe/health/ready").statusCode()).isEqualTo(200));
        assertThat(storeReadiness().getState()).isEqualTo(HealthCheck.State.UP);
    }
}
