package org.healthexport.relay.deliver;

import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobFile;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** relay.download.oversized-lines=refuse through the real routes: the file is not delivered and the job says why. */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:ndjson-lines-refuse;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/ndjson-lines-refuse",
        "relay.sandbox.enabled=true",
        "relay.sandbox.retry-after=1",
        "relay.sandbox.polls-before-ready=1",
        "relay.download.max-line-bytes=1000",
        "relay.download.oversized-lines=refuse",
        "relay.sources.bulk.kind=fhir-bulk",
        "relay.sources.bulk.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.bulk.export=Patient/$export?_type=Patient",
})
class NdjsonLinesRefuseRouteTest {
    static final Path OUTBOX = Path.of("target/test-outbox/ndjson-lines-refuse");
    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;

    @Test
    void aLineOverTheLimitRefusesTheFileAndFailsTheJobWithTheReason() throws Exception {
        FhirBulkSandbox sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
        JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
        MeterRegistry meters = context.getRegistry().lookupByNameAndType("metricsRegistry", MeterRegistry.class);
        // a long file, so the refusal comes mid-stream: line 3 is over the limit, 200 lines follow it
        StringBuilder content = new StringBuilder("{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"id\":\"b\"}\n")
                .append("{\"resourceType\":\"Patient\",\"id\":\"long\",\"text\":\"").append("x".repeat(3000)).append("\"}\n");
        for (int i = 0; i < 200; i++) {
            content.append("{\"resourceType\":\"Patient\",\"id\":\"after-").append(i).append("\"}\n");
        }
        sandbox.addOutputFile("Long-lines.ndjson", content.toString().getBytes());

        ExportJob job = producer.requestBody("direct:kickoff-source", "bulk", ExportJob.class);
        await().atMost(Duration.ofSeconds(30)).until(() -> store.get(job.id()).state().isTerminal());

        ExportJob failed = store.get(job.id());
        assertThat(failed.state()).isEqualTo(JobState.FAILED);
        JobFile refused = store.files(job.id()).stream().filter(f -> f.url().endsWith("/Long-lines.ndjson"))
                .findFirst().orElseThrow();
        assertThat(failed.lastError()).isEqualTo("Refused " + refused.targetKey() + ": line 3 is longer than 1000"
                + " bytes (relay.download.max-line-bytes; relay.download.oversized-lines=refuse)");
        assertThat(refused.isDelivered()).isFalse();
        Path folder = OUTBOX.resolve("bulk").resolve(job.id());
        try (Stream<Path> files = Files.exists(folder) ? Files.list(folder) : Stream.empty()) {
            List<String> names = files.map(p -> p.getFileName().toString()).toList();
            assertThat(names).as("nothing under the refused file's name, no temporary left, no receipt")
                    .noneMatch(n -> n.contains(Path.of(refused.targetKey()).getFileName().toString()))
                    .doesNotContain("receipt.json");
        }
        assertThat(meters.find("relay_oversized_lines_total").tags("kind", "fhir-bulk", "mode", "refuse").counter())
                .isNotNull().satisfies(c -> assertThat(c.count()).isEqualTo(1.0));
    }
}
