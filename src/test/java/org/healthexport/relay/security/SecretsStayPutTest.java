package org.healthexport.relay.security;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.healthexport.relay.sandbox.ScriptedFaults.Aim;
import org.healthexport.relay.sandbox.ScriptedFaults.Fault;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A full export with known secret values (client secret, API token, the access tokens the server issued), a
 * failed export with its notification, and API calls: no secret appears in any log line, exception, receipt,
 * notification or delivered file, nor in the metrics.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.api.token=API-TOKEN-sentinel-7f3a",
        "relay.store.url=jdbc:h2:mem:secrets;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/secrets",
        "relay.sandbox.enabled=true",
        "relay.sources.vault.kind=fhir-bulk",
        "relay.sources.vault.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.vault.allowed-hosts={{relay.sandbox.storage-origin}}",
        "relay.sources.vault.auth.mode=client-credentials",
        "relay.sources.vault.auth.client-id=vault-client",
        "relay.sources.vault.auth.client-secret=CLIENT-SECRET-sentinel-91bd",
        "relay.sources.vault.auth.secret-in=form",
})
class SecretsStayPutTest {
    static final Path OUTBOX = Path.of("target/test-outbox/secrets");
    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;

    @Test
    void noSecretLeavesItsPlace() throws Exception {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(logs);
        try {
            FhirBulkSandbox sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
            JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
            sandbox.registerClient("vault-client", "CLIENT-SECRET-sentinel-91bd");

            ExportJob good = producer.requestBody("direct:kickoff-source", "vault", ExportJob.class);
            await().atMost(Duration.ofSeconds(30)).until(() -> store.get(good.id()).state() == JobState.DELIVERED);
            sandbox.faults().queue(Aim.STATUS, Fault.operationOutcome(400, "invalid", "Injected 400"));
            ExportJob bad = producer.requestBody("direct:kickoff-source", "vault", ExportJob.class);
            await().atMost(Duration.ofSeconds(30)).until(() -> store.get(bad.id()).state() == JobState.FAILED);
            sandbox.revokeTokens();

            int port = context.hasServices(VertxPlatformHttpServer.class).stream()
                    .mapToInt(VertxPlatformHttpServer::getPort).filter(p -> p > 0).findFirst().orElseThrow();
            HttpClient http = HttpClient.newHttpClient();
            String metrics = "";
            for (String path : List.of("/api/jobs", "/api/jobs/" + good.id(), "/observe/metrics")) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .header("Authorization", "Bearer API-TOKEN-sentinel-7f3a").build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).doesNotContain("sentinel").doesNotContain("sandbox-token-");
                assertThat(r.headers().map().toString()).doesNotContain("sentinel");
                metrics = r.body();
            }
            assertThat(metrics).contains("relay_files_delivered_total").contains("relay_jobs");

            Set<String> secrets = new TreeSet<>(List.of("CLIENT-SECRET-sentinel-91bd", "API-TOKEN-sentinel-7f3a"));
            sandbox.requests().stream().map(r -> r.authorization()).filter(a -> a != null && a.startsWith("Bearer "))
                    .map(a -> a.substring(7)).forEach(secrets::add);
            assertThat(secrets).hasSizeGreaterThan(2);

            List<String> lines = new ArrayList<>();
            for (ILoggingEvent e : logs.list) {
                lines.add(e.getFormattedMessage());
                if (e.getThrowableProxy() != null) {
                    lines.add(ThrowableProxyUtil.asString(e.getThrowableProxy()));
                }
            }
            assertThat(lines).isNotEmpty();
            try (Stream<Path> files = Files.walk(OUTBOX)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    lines.add(f + ": " + Files.readString(f));
                }
            }
            assertThat(lines).anyMatch(l -> l.contains("_notifications"));
            for (String secret : secrets) {
                assertThat(lines).as("lines holding a secret").noneMatch(l -> l.contains(secret));
            }
        } finally {
            root.detachAppender(logs);
        }
    }
}
