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

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The real routes against a store that keeps the aws-chunked framing of a streamed upload as the object's bytes
 * ({@link TrailerBlindStore} in front of S3Proxy), with the default {@code checksum=sha256}: the 12 MiB file's
 * first upload is found mangled and removed, the delivery's retry sends it without a checksum, and the job ends
 * DELIVERED with every object byte-exact and the receipt's SHA-256 right. Nothing lost, nothing mangled left.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:s3-trailer-blind-route;DB_CLOSE_DELAY=-1",
        "relay.sandbox.enabled=true",
        "relay.sandbox.retry-after=1",
        "relay.sandbox.big-file-bytes=12582912",
        "relay.sources.blind.kind=fhir-bulk",
        "relay.sources.blind.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.blind.export=Group/g1/$export?_type=Patient,Observation",
        "relay.sources.blind.allowed-hosts=127.0.0.1",
        "relay.poll.initial-wait=1s",
        "relay.poll.max-wait=2s",
        "relay.target.kind=s3",
        "relay.target.s3.bucket=relay-blind",
        "relay.target.s3.endpoint={{sys:test.s3.blind-endpoint}}",
        "relay.target.s3.path-style=true",
        "relay.target.s3.access-key=blind-access",
        "relay.target.s3.secret-key=blind-secret-77Qa",
        "relay.target.s3.prefix=exports",
        "relay.target.s3.part-size=5MiB"
})
class S3TrailerBlindRouteTest {
    private static final S3ProxyServer S3;
    private static final TrailerBlindStore STORE;
    private static final long BIG = 12L * 1024 * 1024;

    static {
        try {
            S3 = S3ProxyServer.start("transient", null, false, 0);
            S3.createBucket("relay-blind");
            STORE = new TrailerBlindStore(S3.endpoint(), TrailerBlindStore.Mode.STORES_FRAMING);
            System.setProperty("test.s3.blind-endpoint", STORE.endpoint().toString());
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;

    @AfterAll
    static void stop() throws Exception {
        STORE.close();
        S3.close();
        System.clearProperty("test.s3.blind-endpoint");
    }

    @Test
    void theMangledFirstUploadIsRemovedAndTheFileDeliveredAgainWithoutAChecksum() throws Exception {
        JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
        FhirBulkSandbox sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
        S3Target target = context.getRegistry().lookupByNameAndType("deliveryTarget", S3Target.class);

        ExportJob job = producer.requestBody("direct:kickoff-source", "blind", ExportJob.class);
        await().atMost(Duration.ofSeconds(90)).until(() -> store.get(job.id()).state() == JobState.DELIVERED);

        assertThat(target.checksumSupport()).isEqualTo(S3Target.ChecksumSupport.REFUSED);
        assertThat(STORE.uploadsWithChecksum).contains(true).endsWith(false); // the receipt went without one
        String folder = "exports/blind/" + job.id() + "/";
        try (S3Client s3 = S3.client()) {
            JsonNode receipt = new ObjectMapper().readTree(
                    s3.getObjectAsBytes(r -> r.bucket("relay-blind").key(folder + "receipt.json")).asByteArray());
            assertThat(receipt.path("files")).hasSize(4);
            for (JsonNode f : receipt.path("files")) {
                byte[] bytes = s3.getObjectAsBytes(r -> r.bucket("relay-blind").key("exports/" + f.path("key").asText()))
                        .asByteArray();
                String name = f.path("sourceUrl").asText().replaceAll(".*/", "").replaceAll("\\?.*", "");
                byte[] expected = name.equals("Observation-1.ndjson") ? SandboxData.bigNdjson(BIG).readAllBytes()
                        : sandbox.content(name);
                assertThat(bytes).as(name).isEqualTo(expected);
                assertThat(f.path("sha256").asText()).as(name).isEqualTo(S3TargetTest.sha256(bytes));
            }
        }
    }
}
