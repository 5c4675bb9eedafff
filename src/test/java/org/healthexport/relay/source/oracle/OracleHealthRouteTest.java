package org.healthexport.relay.source.oracle;

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
import org.healthexport.relay.sandbox.OracleHealthSandbox;
import org.healthexport.relay.sandbox.SandboxServer.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The oracle-health routes from the real YAML, end to end against the Oracle sandbox, delivering to a folder. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:oracle-route;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/oracle-route",
        "relay.sandbox.enabled=true",
        "relay.sandbox.oracle-health.retry-after=1",
        "relay.sandbox.oracle-health.client-id=relay-basic",
        "relay.sandbox.oracle-health.client-secret=s3cret",
        "relay.poll.interval=100",
        "relay.kickoff.wait=300ms",
        // a Group export, system account with its secret in a Basic header, token URL from the metadata
        "relay.sources.ora.kind=oracle-health",
        "relay.sources.ora.base-url={{relay.sandbox.oracle-health.url}}/r4/tenant-a",
        "relay.sources.ora.export=Group/" + OracleHealthSandbox.GROUP_3 + "/$export?_type=Patient,Observation",
        "relay.sources.ora.auth.client-id=relay-basic",
        "relay.sources.ora.auth.client-secret=s3cret",
        "relay.sources.ora.allowed-hosts=127.0.0.1",
})
class OracleHealthRouteTest {
    static final String OUT = "target/test-outbox/oracle-route";
    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;

    OracleHealthSandbox sandbox() {
        return context.getRegistry().lookupByNameAndType("oracle-health-sandbox", OracleHealthSandbox.class);
    }

    JobStore store() {
        return context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
    }

    @Test
    void groupExportIsPolledAfterRetryAfterDeliveredWithoutTokenAtS3AndDeleted() throws Exception {
        OracleHealthSandbox sandbox = sandbox();
        ExportJob job = producer.requestBody("direct:kickoff-source", "ora", ExportJob.class);
        assertThat(job.state()).isEqualTo(JobState.SUBMITTED);
        assertThat(job.statusUrl()).contains("/r4/tenant-a/bulk-export/jobs/" + job.vendorJobId());

        await().atMost(Duration.ofSeconds(30)).until(() -> store().get(job.id()).state() == JobState.DELIVERED);
        ExportJob done = store().get(job.id());
        assertThat(done.requestId()).isIn(sandbox.requestIds());

        Path folder = Path.of(OUT, "ora", job.id());
        JsonNode receipt = new ObjectMapper().readTree(folder.resolve("receipt.json").toFile());
        List<OracleHealthSandbox.ExportFile> files = sandbox.files(job.vendorJobId());
        assertThat(receipt.path("files")).hasSize(files.size());
        assertThat(files).hasSize(4);
        for (JsonNode f : receipt.path("files")) {
            String fileId = f.path("sourceUrl").asText().replaceAll(".*/", "");
            byte[] expected = files.stream().filter(x -> x.id().equals(fileId)).findFirst().orElseThrow().content();
            assertThat(Files.readAllBytes(Path.of(OUT).resolve(f.path("key").asText()))).isEqualTo(expected);
        }
        assertThat(Files.exists(folder.resolve("error/OperationOutcome-1.ndjson"))).isTrue();
        assertThat(Files.exists(folder.resolve("Patient-2.ndjson"))).isTrue();

        // no token at the presigned links; the S3 stand-in refuses one
        assertThat(sandbox.storageRequests()).hasSizeGreaterThanOrEqualTo(4).noneMatch(RecordedRequest::hasAuthorization);
        // Retry-After honoured: never early, at least a second between polls
        assertThat(sandbox.earlyPolls()).isZero();
        List<RecordedRequest> polls = sandbox.requests().stream()
                .filter(r -> r.method().equals("GET") && r.path().endsWith("/bulk-export/jobs/" + job.vendorJobId())).toList();
        assertThat(polls).hasSize(3);
        for (int i = 1; i < polls.size(); i++) {
            assertThat(Duration.between(polls.get(i - 1).at(), polls.get(i).at())).isGreaterThanOrEqualTo(Duration.ofMillis(900));
        }
        // DELETE after the last file
        RecordedRequest delete = sandbox.requests().stream().filter(r -> r.method().equals("DELETE")
                && r.path().endsWith(job.vendorJobId())).findFirst().orElseThrow();
        RecordedRequest lastFile = sandbox.storageRequests().stream().reduce((a, b) -> b).orElseThrow();
        assertThat(delete.at()).isAfterOrEqualTo(lastFile.at());
        assertThat(sandbox.isDeleted(job.vendorJobId())).isTrue();
    }
}
