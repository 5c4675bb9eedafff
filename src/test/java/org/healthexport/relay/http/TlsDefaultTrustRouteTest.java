package org.healthexport.relay.http;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Default trust, through the real routes: a source behind a self-signed certificate is refused by camel-http
 * (kick-off, status polls); neither a kick-off nor an export adopted there goes further, and each job's last error
 * says the certificate was not trusted.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:tls-default-trust;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/tls-default-trust",
        "relay.sandbox.enabled=true",
        "relay.sandbox.tls-keystore={{sys:test.tls.sandbox-keystore}}",
        "relay.sandbox.tls-keystore-password=" + TestTls.KEY_STORE_PASSWORD,
        "relay.poll.initial-wait=200ms",
        "relay.poll.min-wait=100ms",
        "relay.sources.secure.kind=fhir-bulk",
        "relay.sources.secure.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.secure.allowed-hosts={{relay.sandbox.storage-origin}}"
})
class TlsDefaultTrustRouteTest {
    static final Path OUTBOX = Path.of("target/test-outbox/tls-default-trust");

    static final ListAppender<ILoggingEvent> LOGS = TlsRoutes.prepare();

    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;

    @AfterAll
    static void stopLogs() {
        TlsRoutes.stopLogs(LOGS);
    }

    @Test
    void anUntrustedCertificateIsRefusedAndTheJobSaysWhy() throws Exception {
        FhirBulkSandbox sandbox = TlsRoutes.sandbox(context);
        JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);

        // the kick-off (camel-http) refuses the certificate before any request reaches the server: its job waits,
        // not sent, and says why
        String queued = producer.requestBody("direct:kickoff-source", "secure", ExportJob.class).id();
        await().atMost(Duration.ofSeconds(30)).until(() -> store.get(queued).lastError() != null);
        assertThat(store.get(queued).lastError()).startsWith("TLS: the server's certificate is not trusted");
        assertThat(store.get(queued).statusUrl()).isNull();
        assertThat(store.get(queued).state().isTerminal()).isFalse();
        assertThat(sandbox.requests()).isEmpty();

        // an export started by someone who trusts the server, adopted by the relay
        OutboundTls trusting = new OutboundTls(context, TestTls.stores().trustStore().toString(),
                TestTls.TRUST_STORE_PASSWORD, "PKCS12", false);
        HttpClient client = HttpClient.newBuilder().sslContext(trusting.sslContext()).build();
        HttpResponse<String> kickoff = client.send(HttpRequest.newBuilder(URI.create(sandbox.fhirBase() + "$export"))
                .header("Accept", "application/fhir+json").header("Prefer", "respond-async").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(kickoff.statusCode()).isEqualTo(202);
        String statusUrl = kickoff.headers().firstValue("Content-Location").orElseThrow();
        sandbox.clearRequests();

        int port = context.hasServices(VertxPlatformHttpServer.class).stream()
                .mapToInt(VertxPlatformHttpServer::getPort).filter(p -> p > 0).findFirst().orElseThrow();
        HttpResponse<String> adopted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/api/jobs"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"source\":\"secure\",\"statusUrl\":\"" + statusUrl + "\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(adopted.statusCode()).isEqualTo(201);
        String id = new ObjectMapper().readTree(adopted.body()).path("id").asText();

        await().atMost(Duration.ofSeconds(30)).until(() -> store.get(id).lastError() != null);
        ExportJob job = store.get(id);
        assertThat(job.lastError()).startsWith("TLS: the server's certificate is not trusted")
                .contains("relay.http.trust-store");
        assertThat(job.state().isTerminal()).isFalse();
        assertThat(store.files(id)).isEmpty();
        assertThat(sandbox.requests()).as("no request got through the handshake").isEmpty();
        assertThat(Files.exists(OUTBOX.resolve("secure").resolve(id))).isFalse();
        assertThat(LOGS.list).anyMatch(e -> e.getFormattedMessage()
                .contains("Outbound TLS: certificates verified against the JDK's default CAs"));
    }
}
