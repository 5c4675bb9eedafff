package org.healthexport.relay.deliver;

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

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * relay.sources.&lt;id&gt;.parallel-downloads through the real deliver route: source a (2 at once, two exports of
 * many slow files) and source b (4 at once) deliver at the same time from the FHIR sandbox, which counts the file
 * requests it answers at once per exported group.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:parallel-downloads;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/parallel-downloads",
        "relay.sandbox.enabled=true",
        "relay.sandbox.polls-before-ready=0",
        "relay.sources.a.kind=fhir-bulk",
        "relay.sources.a.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.a.export=Group/a/$export?_type=Patient,Observation",
        "relay.sources.a.allowed-hosts=127.0.0.1",
        "relay.sources.a.parallel-downloads=2",
        "relay.sources.b.kind=fhir-bulk",
        "relay.sources.b.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.b.export=Group/b/$export?_type=Patient,Observation",
        "relay.sources.b.allowed-hosts=127.0.0.1",
        "relay.sources.b.parallel-downloads=4"
})
class ParallelDownloadsRouteTest {
    private static final int SMALL_FILES = 24;
    /** Patient-1, Observation-1, Observation-2 (through the storage redirect), errors, and the small files. */
    private static final int FILES_PER_EXPORT = SMALL_FILES + 4;

    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;

    @Test
    void aBusySourceStaysWithinItsBoundAndDoesNotHoldUpAnother() throws Exception {
        FhirBulkSandbox sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
        JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
        CountDownLatch releaseA = new CountDownLatch(1);
        sandbox.smallFiles(SMALL_FILES).fileDelay(Duration.ofMillis(150)).holdFiles("Group/a", releaseA);

        ExportJob a1 = producer.requestBody("direct:kickoff-source", "a", ExportJob.class);
        ExportJob a2 = producer.requestBody("direct:kickoff-source", "a", ExportJob.class);
        ExportJob b = producer.requestBody("direct:kickoff-source", "b", ExportJob.class);

        // a's downloads all wait at the server: b delivers all the same, then a once its files come
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> store.get(b.id()).state() == JobState.DELIVERED);
            await().atMost(Duration.ofSeconds(10)).until(() -> sandbox.maxConcurrentFileRequests("Group/a") == 2);
            assertThat(store.get(a1.id()).state()).isNotEqualTo(JobState.DELIVERED);
            assertThat(store.get(a2.id()).state()).isNotEqualTo(JobState.DELIVERED);
        } finally {
            releaseA.countDown();
        }

        await().atMost(Duration.ofSeconds(90)).until(() -> store.get(a1.id()).state() == JobState.DELIVERED
                && store.get(a2.id()).state() == JobState.DELIVERED);

        assertThat(sandbox.maxConcurrentFileRequests("Group/a")).isEqualTo(2);
        assertThat(sandbox.maxConcurrentFileRequests("Group/b")).isEqualTo(4);

        for (ExportJob job : List.of(a1, a2, b)) {
            String vendorJob = store.get(job.id()).statusUrl().replaceAll(".*/", "");
            assertThat(fileRequestsOf(sandbox, vendorJob).values()).as(job.sourceId() + " " + vendorJob)
                    .hasSize(FILES_PER_EXPORT).allMatch(n -> n == 1);
            Path folder = Path.of("target/test-outbox/parallel-downloads", job.sourceId(), job.id());
            JsonNode receipt = new ObjectMapper().readTree(folder.resolve("receipt.json").toFile());
            assertThat(receipt.path("files")).hasSize(FILES_PER_EXPORT);
            for (JsonNode f : receipt.path("files")) {
                String name = f.path("sourceUrl").asText().replaceAll(".*/", "").replaceAll("\\?.*", "");
                assertThat(Files.readAllBytes(Path.of("target/test-outbox/parallel-downloads").resolve(f.path("key").asText())))
                        .as(name).isEqualTo(sandbox.content(name));
            }
        }
    }

    /** How often each file of one export was fetched, the storage's presigned copy counted under its own name. */
    private static Map<String, Long> fileRequestsOf(FhirBulkSandbox sandbox, String vendorJob) {
        List<RecordedRequest> all = new ArrayList<>(sandbox.requests().stream()
                .filter(r -> r.path().contains("/files/" + vendorJob + "/") && !r.path().endsWith("/Observation-2.ndjson"))
                .toList());
        all.addAll(sandbox.storageRequests().stream().filter(r -> r.path().contains("/" + vendorJob + "/")).toList());
        return all.stream().collect(Collectors.groupingBy(r -> r.path().replaceAll(".*/", ""), Collectors.counting()));
    }
}
