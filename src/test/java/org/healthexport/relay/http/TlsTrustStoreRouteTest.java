package org.healthexport.relay.http;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * relay.http.trust-store holding the sandbox's self-signed certificate, through the real routes: token request,
 * kick-off and status polls (camel-http), files and the 307 to the storage host (JDK client) all over HTTPS;
 * delivered byte-exact, and the store's password in no log line.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:tls-trust-store;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/tls-trust-store",
        "relay.sandbox.enabled=true",
        "relay.sandbox.retry-after=1",
        "relay.sandbox.tls-keystore={{sys:test.tls.sandbox-keystore}}",
        "relay.sandbox.tls-keystore-password=" + TestTls.KEY_STORE_PASSWORD,
        "relay.http.trust-store={{sys:test.tls.trust-store}}",
        "relay.http.trust-store-password=" + TestTls.TRUST_STORE_PASSWORD,
        "relay.sources.secure.kind=fhir-bulk",
        "relay.sources.secure.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.secure.export=Group/g1/$export?_type=Patient,Observation",
        "relay.sources.secure.allowed-hosts={{relay.sandbox.storage-origin}}",
        "relay.sources.secure.auth.mode=client-credentials",
        "relay.sources.secure.auth.client-id=tls-client",
        "relay.sources.secure.auth.client-secret=tls-client-secret"
})
class TlsTrustStoreRouteTest {
    static final Path OUTBOX = Path.of("target/test-outbox/tls-trust-store");

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
    void aTrustStoreHoldingTheCertificateLetsEveryCallThrough() throws Exception {
        FhirBulkSandbox sandbox = TlsRoutes.sandbox(context);
        sandbox.registerClient("tls-client", "tls-client-secret");
        JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);

        ExportJob job = producer.requestBody("direct:kickoff-source", "secure", ExportJob.class);
        await().atMost(Duration.ofSeconds(40)).until(() -> store.get(job.id()).state() == JobState.DELIVERED);

        TlsRoutes.assertDeliveredByteExact(OUTBOX, job, sandbox);
        assertThat(sandbox.tokensIssued()).isPositive();
        assertThat(sandbox.requests()).anyMatch(r -> r.path().endsWith("/token"))
                .anyMatch(r -> r.path().endsWith("$export"))
                .anyMatch(r -> r.path().contains("/files/"));
        assertThat(sandbox.storageRequests()).as("the redirect to the storage host, over HTTPS too").isNotEmpty();

        List<String> lines = new ArrayList<>();
        for (ILoggingEvent e : List.copyOf(LOGS.list)) {
            lines.add(e.getFormattedMessage());
            if (e.getThrowableProxy() != null) {
                lines.add(ThrowableProxyUtil.asString(e.getThrowableProxy()));
            }
        }
        assertThat(lines).anyMatch(l -> l.contains("Outbound TLS: certificates verified against relay.http.trust-store")
                && l.contains("1 certificate(s)"));
        assertThat(lines).noneMatch(l -> l.contains(TestTls.TRUST_STORE_PASSWORD));
        assertThat(lines).as("no warning that verification is off")
                .noneMatch(l -> l.contains("insecure-skip-tls-verify=true"));
    }
}
