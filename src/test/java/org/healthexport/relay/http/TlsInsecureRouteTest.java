package org.healthexport.relay.http;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
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

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * relay.http.insecure-skip-tls-verify=true, through the real routes: the self-signed sandbox is reached by every
 * client without any trust store, and the start logs a WARN naming the option.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:tls-insecure;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/tls-insecure",
        "relay.sandbox.enabled=true",
        "relay.sandbox.retry-after=1",
        "relay.sandbox.tls-keystore={{sys:test.tls.sandbox-keystore}}",
        "relay.sandbox.tls-keystore-password=" + TestTls.KEY_STORE_PASSWORD,
        "relay.http.insecure-skip-tls-verify=true",
        "relay.sources.secure.kind=fhir-bulk",
        "relay.sources.secure.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.secure.export=Group/g1/$export?_type=Patient,Observation",
        "relay.sources.secure.allowed-hosts={{relay.sandbox.storage-origin}}",
        "relay.sources.secure.auth.mode=client-credentials",
        "relay.sources.secure.auth.client-id=tls-client",
        "relay.sources.secure.auth.client-secret=tls-client-secret"
})
class TlsInsecureRouteTest {
    static final Path OUTBOX = Path.of("target/test-outbox/tls-insecure");

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
    void withoutVerificationEverythingIsDeliveredAndTheStartWarns() throws Exception {
        assertThat(LOGS.list).anyMatch(e -> e.getLevel() == Level.WARN
                && e.getFormattedMessage().startsWith("relay.http.insecure-skip-tls-verify=true")
                && e.getFormattedMessage().contains("NOT verified"));

        FhirBulkSandbox sandbox = TlsRoutes.sandbox(context);
        sandbox.registerClient("tls-client", "tls-client-secret");
        JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
        ExportJob job = producer.requestBody("direct:kickoff-source", "secure", ExportJob.class);
        await().atMost(Duration.ofSeconds(40)).until(() -> store.get(job.id()).state() == JobState.DELIVERED);

        TlsRoutes.assertDeliveredByteExact(OUTBOX, job, sandbox);
        assertThat(sandbox.tokensIssued()).isPositive();
        assertThat(sandbox.storageRequests()).isNotEmpty();
    }
}
