package org.healthexport.relay.http;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.CamelContext;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Shared by the TLS route tests: the FHIR sandbox serves HTTPS with a self-signed certificate made at test
 * time ({@link TestTls}); system properties name its stores for the tests' {@code {{sys:...}}} placeholders, and
 * every log line from the start of the relay on is kept.
 */
final class TlsRoutes {
    private TlsRoutes() {
    }

    /**
     * Call from the test class's static initializer, before the Camel context starts: names the stores for the
     * properties and returns the log lines of this class's relay from its start on.
     */
    static ListAppender<ILoggingEvent> prepare() {
        TestTls.Stores stores = TestTls.stores();
        System.setProperty("test.tls.sandbox-keystore", stores.serverKeyStore().toString());
        System.setProperty("test.tls.trust-store", stores.trustStore().toString());
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
        return logs;
    }

    static void stopLogs(ListAppender<ILoggingEvent> logs) {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    }

    /** Every file in the receipt is the sandbox's bytes, with their size and SHA-256. */
    static JsonNode assertDeliveredByteExact(Path outbox, ExportJob job, FhirBulkSandbox sandbox) throws Exception {
        JsonNode receipt = new ObjectMapper().readTree(outbox.resolve(job.sourceId()).resolve(job.id())
                .resolve("receipt.json").toFile());
        assertThat(receipt.path("files").size()).isGreaterThanOrEqualTo(3);
        for (JsonNode f : receipt.path("files")) {
            byte[] bytes = Files.readAllBytes(outbox.resolve(f.path("key").asText()));
            String name = f.path("sourceUrl").asText().replaceAll(".*/", "").replaceAll("\\?.*", "");
            assertThat(bytes).as(name).isEqualTo(sandbox.content(name));
            assertThat(f.path("sha256").asText())
                    .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
        }
        return receipt;
    }

    static FhirBulkSandbox sandbox(CamelContext context) {
        FhirBulkSandbox sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
        assertThat(sandbox.fhirBase()).startsWith("https://");
        assertThat(sandbox.storageOrigin()).startsWith("https://");
        return sandbox;
    }
}
