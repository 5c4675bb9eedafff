package org.healthexport.relay.source.fhir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import org.healthexport.relay.sandbox.SandboxServer.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The fhir-bulk routes from the real YAML, end to end against the sandbox, delivering to a folder. */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:fhir-bulk-route;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/fhir-bulk-route",
        "relay.sandbox.enabled=true",
        "relay.sandbox.retry-after=1",
        "relay.sources.bulk.kind=fhir-bulk",
        "relay.sources.bulk.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.bulk.export=Group/g1/$export?_type=Patient,Observation",
        "relay.sources.bulk.allowed-hosts=127.0.0.1"
})
class FhirBulkRouteTest {
    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;

    @Test
    void groupExportIsPolledDeliveredWithReceiptAndDeleted() throws Exception {
        FhirBulkSandbox sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
        JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);

        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs =
                new ch.qos.logback.core.read.ListAppender<>();
        logs.start();
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(
                Logger.ROOT_LOGGER_NAME);
        root.addAppender(logs);
        ExportJob job;
        try {
            job = producer.requestBody("direct:kickoff-source", "bulk", ExportJob.class);
            assertThat(job.state()).isEqualTo(JobState.SUBMITTED);
            await().atMost(Duration.ofSeconds(30)).until(() -> store.get(job.id()).state() == JobState.DELIVERED);
        } finally {
            root.detachAppender(logs);
        }
        // every line about the job carries its keys for JSON logs, on the worker and on the download threads alike
        List<ch.qos.logback.classic.spi.ILoggingEvent> jobLines = logs.list.stream()
                .filter(e -> e.getFormattedMessage().startsWith("Job " + job.id() + ":")).toList();
        assertThat(jobLines).extracting(e -> e.getMDCPropertyMap().get("jobId")).containsOnly(job.id());
        assertThat(jobLines).extracting(e -> e.getMDCPropertyMap().get("jobSource")).containsOnly("bulk");
        assertThat(jobLines).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getThreadName)
                .anyMatch(t -> t.contains("downloads-bulk"));

        Path folder = Path.of("target/test-outbox/fhir-bulk-route/bulk", job.id());
        JsonNode receipt = new ObjectMapper().readTree(folder.resolve("receipt.json").toFile());
        assertThat(receipt.path("files")).hasSize(4);
        for (JsonNode f : receipt.path("files")) {
            Path file = Path.of("target/test-outbox/fhir-bulk-route").resolve(f.path("key").asText());
            byte[] bytes = Files.readAllBytes(file);
            String name = f.path("sourceUrl").asText().replaceAll(".*/", "").replaceAll("\\?.*", "");
            assertThat(bytes).as(name).isEqualTo(sandbox.content(name));
            assertThat(f.path("bytes").asLong()).isEqualTo(bytes.length);
            assertThat(f.path("sha256").asText())
                    .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
        }
        assertThat(Files.exists(folder.resolve("error/OperationOutcome-1.ndjson"))).isTrue();

        List<RecordedRequest> requests = sandbox.requests();
        String statusPath = URI.create(store.get(job.id()).statusUrl()).getPath();
        List<RecordedRequest> polls = requests.stream()
                .filter(r -> r.method().equals("GET") && r.path().equals(statusPath)).toList();
        assertThat(polls).hasSize(3);
        // Retry-After: 1 was honoured between polls
        for (int i = 1; i < polls.size(); i++) {
            assertThat(Duration.between(polls.get(i - 1).at(), polls.get(i).at())).isGreaterThanOrEqualTo(Duration.ofMillis(950));
        }
        RecordedRequest delete = requests.stream().filter(r -> r.method().equals("DELETE")).findFirst().orElseThrow();
        RecordedRequest lastFile = requests.stream().filter(r -> r.path().contains("/files/")).reduce((a, b) -> b).orElseThrow();
        assertThat(delete.at()).isAfterOrEqualTo(lastFile.at());
        // the presigned storage was reached without a token
        assertThat(sandbox.storageRequests()).isNotEmpty().noneMatch(RecordedRequest::hasAuthorization);
        assertThat(requests.get(0).prefer()).isEqualTo("respond-async");
        assertThat(requests.get(0).accept()).isEqualTo("application/fhir+json");
    }
}
