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
import org.healthexport.relay.sandbox.SandboxData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The real routes, end to end: the fhir-bulk sandbox export delivered to S3Proxy with {@code relay.target.kind=s3}
 * (a 12 MiB file in 5 MiB parts), receipt.json last; then an S3 outage during a delivery, retried to completion.
 * S3Proxy is started by the static initializer, before the Camel context, so the relay's configuration can
 * point at it through {@code {{sys:test.s3.endpoint}}}.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:s3-delivery-route;DB_CLOSE_DELAY=-1",
        "relay.sandbox.enabled=true",
        "relay.sandbox.retry-after=1",
        "relay.sandbox.big-file-bytes=12582912",
        "relay.sources.bulk.kind=fhir-bulk",
        "relay.sources.bulk.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.bulk.export=Group/g1/$export?_type=Patient,Observation",
        "relay.sources.bulk.allowed-hosts=127.0.0.1",
        "relay.poll.initial-wait=1s",
        "relay.poll.max-wait=2s",
        "relay.target.kind=s3",
        "relay.target.s3.bucket=relay-e2e",
        "relay.target.s3.endpoint={{sys:test.s3.endpoint}}",
        "relay.target.s3.path-style=true",
        "relay.target.s3.access-key=" + S3ProxyServer.ACCESS_KEY,
        "relay.target.s3.secret-key=" + S3ProxyServer.SECRET_KEY,
        "relay.target.s3.prefix=exports",
        "relay.target.s3.part-size=5MiB",
        "relay.target.s3.sse=AES256"
})
class S3DeliveryRouteTest {
    private static final S3ProxyServer S3;
    private static final long BIG = 12L * 1024 * 1024;

    static {
        try {
            S3 = S3ProxyServer.start();
            S3.createBucket("relay-e2e");
            System.setProperty("test.s3.endpoint", S3.endpoint().toString());
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;

    @AfterAll
    static void stopS3() throws Exception {
        S3.close();
        System.clearProperty("test.s3.endpoint");
    }

    @Test
    void exportIsDeliveredToS3WithTheReceiptLast() throws Exception {
        // the static initializer ran before the context was configured: the target was built with the
        // endpoint it published (an unset {{sys:test.s3.endpoint}} would have failed the startup)
        S3Target target = context.getRegistry().lookupByNameAndType("deliveryTarget", S3Target.class);
        assertThat(target.settings().endpoint()).isEqualTo(S3.endpoint());
        assertThat(target.locate("k")).isEqualTo("s3://relay-e2e/exports/k");

        JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
        FhirBulkSandbox sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
        try (S3Client s3 = S3.client()) {
            ExportJob job = producer.requestBody("direct:kickoff-source", "bulk", ExportJob.class);
            String folder = "exports/bulk/" + job.id() + "/";
            AtomicReference<Set<String>> presentWithReceipt = watchForReceipt(s3, folder);

            await().atMost(Duration.ofSeconds(60)).until(() -> store.get(job.id()).state() == JobState.DELIVERED);

            await().atMost(Duration.ofSeconds(5)).until(() -> presentWithReceipt.get() != null);
            JsonNode receipt = new ObjectMapper().readTree(
                    s3.getObjectAsBytes(r -> r.bucket("relay-e2e").key(folder + "receipt.json")).asByteArray());
            assertThat(receipt.path("target").asText()).isEqualTo("s3");
            assertThat(receipt.path("files")).hasSize(4);
            for (JsonNode f : receipt.path("files")) {
                String key = "exports/" + f.path("key").asText();
                // every file listed was complete and visible before the receipt appeared
                assertThat(presentWithReceipt.get()).contains(key);
                byte[] bytes = s3.getObjectAsBytes(r -> r.bucket("relay-e2e").key(key)).asByteArray();
                String name = f.path("sourceUrl").asText().replaceAll(".*/", "").replaceAll("\\?.*", "");
                byte[] expected = name.equals("Observation-1.ndjson") ? SandboxData.bigNdjson(BIG).readAllBytes()
                        : sandbox.content(name);
                assertThat(bytes).as(name).isEqualTo(expected);
                assertThat(f.path("bytes").asLong()).isEqualTo(bytes.length);
                assertThat(f.path("sha256").asText()).isEqualTo(S3TargetTest.sha256(bytes));
            }
            assertThat(s3.headObject(r -> r.bucket("relay-e2e").key(folder + "Observation-1.ndjson")).contentType())
                    .isEqualTo("application/fhir+ndjson");
            assertThat(s3.listMultipartUploads(r -> r.bucket("relay-e2e")).uploads()).isEmpty();
        }
    }

    @Test
    void anS3OutageKeepsTheJobDeliveringUntilTheStoreIsBack() throws Exception {
        JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
        ExportJob job = TargetOutage.exportThroughAMinuteDown(store, producer, "bulk", S3::stop, S3::restart,
                waiting -> assertThat(waiting.lastError())
                        .contains("S3 upload of s3://relay-e2e/exports/bulk/" + waiting.id())
                        .doesNotContain(S3ProxyServer.SECRET_KEY));
        try (S3Client s3 = S3.client()) {
            List<String> keys = s3.listObjectsV2(r -> r.bucket("relay-e2e").prefix("exports/bulk/" + job.id() + "/"))
                    .contents().stream().map(S3Object::key).toList();
            assertThat(keys).contains("exports/bulk/" + job.id() + "/receipt.json",
                    "exports/bulk/" + job.id() + "/Observation-1.ndjson");
            assertThat(s3.headObject(r -> r.bucket("relay-e2e").key("exports/bulk/" + job.id() + "/Observation-1.ndjson"))
                    .contentLength()).isEqualTo(SandboxData.bigNdjson(BIG).readAllBytes().length);
        }
    }

    /** Lists the job folder until receipt.json shows up; returns the keys present at that moment. */
    private static AtomicReference<Set<String>> watchForReceipt(S3Client s3, String folder) {
        AtomicReference<Set<String>> seen = new AtomicReference<>();
        Thread watcher = new Thread(() -> {
            long until = System.currentTimeMillis() + 60_000;
            while (seen.get() == null && System.currentTimeMillis() < until) {
                Set<String> keys = Set.copyOf(s3.listObjectsV2(r -> r.bucket("relay-e2e").prefix(folder)).contents()
                        .stream().map(S3Object::key).toList());
                if (keys.contains(folder + "receipt.json")) {
                    seen.set(keys);
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "receipt-watcher");
        watcher.setDaemon(true);
        watcher.start();
        return seen;
    }
}
