package org.healthexport.relay.deliver;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * NDJSON bytes through the real routes, delivered exactly as served: a line over relay.download.max-line-bytes
 * (default mode report: delivered, logged, counted, noted in the receipt) and invalid UTF-8.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:ndjson-lines;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/ndjson-lines",
        "relay.sandbox.enabled=true",
        "relay.sandbox.retry-after=1",
        "relay.sandbox.polls-before-ready=1",
        "relay.download.max-line-bytes=1000",
        "relay.sources.bulk.kind=fhir-bulk",
        "relay.sources.bulk.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.bulk.export=Patient/$export?_type=Patient",
})
class NdjsonLinesRouteTest {
    static final Path OUTBOX = Path.of("target/test-outbox/ndjson-lines");
    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;
    FhirBulkSandbox sandbox;
    JobStore store;
    final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    @BeforeEach
    void lookUp() {
        sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
        store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
        logs.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    }

    @AfterEach
    void cleanUp() {
        sandbox.clearOutputFiles();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    }

    static byte[] lines(byte[]... lines) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] line : lines) {
            out.writeBytes(line);
            out.write('\n');
        }
        return out.toByteArray();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    ExportJob deliver() {
        ExportJob job = producer.requestBody("direct:kickoff-source", "bulk", ExportJob.class);
        await().atMost(Duration.ofSeconds(30)).until(() -> store.get(job.id()).state().isTerminal());
        assertThat(store.get(job.id()).state()).as(String.valueOf(store.get(job.id()).lastError()))
                .isEqualTo(JobState.DELIVERED);
        return job;
    }

    JsonNode receiptEntry(ExportJob job, String name) throws Exception {
        JsonNode receipt = new ObjectMapper().readTree(OUTBOX.resolve("bulk").resolve(job.id()).resolve("receipt.json")
                .toFile());
        for (JsonNode f : receipt.path("files")) {
            if (f.path("sourceUrl").asText().endsWith("/" + name)) {
                return f;
            }
        }
        throw new AssertionError(name + " not in the receipt");
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void aLineOverTheLimitIsReportedAndTheFileDeliveredByteExact() throws Exception {
        byte[] longLine = ascii("{\"resourceType\":\"Patient\",\"id\":\"long\",\"text\":\"" + "x".repeat(5000) + "\"}");
        byte[] content = lines(ascii("{\"resourceType\":\"Patient\",\"id\":\"a\"}"), longLine,
                ascii("{\"resourceType\":\"Patient\",\"id\":\"b\"}"));
        sandbox.addOutputFile("Long-lines.ndjson", content);
        MeterRegistry meters = context.getRegistry().lookupByNameAndType("metricsRegistry", MeterRegistry.class);
        double before = oversizedCount(meters, "report");

        ExportJob job = deliver();

        JsonNode entry = receiptEntry(job, "Long-lines.ndjson");
        byte[] delivered = Files.readAllBytes(OUTBOX.resolve(entry.path("key").asText()));
        assertThat(delivered).isEqualTo(content);
        assertThat(entry.path("sha256").asText()).isEqualTo(sha256(content));
        assertThat(entry.path("note").asText()).isEqualTo("1 line(s) longer than relay.download.max-line-bytes"
                + " (1000 bytes), the first is line 2, the longest " + longLine.length + " bytes; delivered unchanged");
        assertThat(receiptEntry(job, "Patient-1.ndjson").has("note")).isFalse();
        assertThat(logs.list).anyMatch(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().contains(job.id())
                && e.getFormattedMessage().contains(entry.path("key").asText())
                && e.getFormattedMessage().contains("the first is line 2"));
        assertThat(oversizedCount(meters, "report") - before).isEqualTo(1.0);
    }

    @Test
    void invalidUtf8PassesThroughByteExact() throws Exception {
        byte[] content = lines(
                ascii("{\"resourceType\":\"Patient\",\"id\":\"ok\"}"),
                concat(ascii("{\"resourceType\":\"Patient\",\"id\":\"bad-1\",\"name\":[{\"family\":\""),
                        new byte[] {(byte) 0xC3, (byte) 0x28}, ascii("\"}]}")),
                concat(ascii("{\"resourceType\":\"Patient\",\"id\":\"bad-2\",\"note\":\""), new byte[] {(byte) 0xFF},
                        ascii("\"}")));
        assertThat(new String(content, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8))
                .as("not valid UTF-8: decoding would change it").isNotEqualTo(content);
        sandbox.addOutputFile("Bad-utf8.ndjson", content);

        ExportJob job = deliver();

        JsonNode entry = receiptEntry(job, "Bad-utf8.ndjson");
        byte[] delivered = Files.readAllBytes(OUTBOX.resolve(entry.path("key").asText()));
        assertThat(delivered).isEqualTo(content);
        assertThat(entry.path("bytes").asLong()).isEqualTo(content.length);
        assertThat(entry.path("sha256").asText()).isEqualTo(sha256(content)).isEqualTo(sha256(delivered));
        assertThat(entry.has("note")).isFalse();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static double oversizedCount(MeterRegistry meters, String mode) {
        var counter = meters.find("relay_oversized_lines_total").tags("kind", "fhir-bulk", "mode", mode).counter();
        return counter == null ? 0 : counter.count();
    }
}
