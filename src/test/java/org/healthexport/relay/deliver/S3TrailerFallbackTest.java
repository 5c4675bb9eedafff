package org.healthexport.relay.deliver;

import org.healthexport.relay.sandbox.SandboxData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A store that does not know flexible checksums (refuses them, or keeps the aws-chunked framing of a streamed
 * upload as the object's bytes) is found at the first upload that shows it: that object is removed, the upload
 * fails so the file is delivered again, and from then on the store gets no checksum while the relay still
 * answers each file's SHA-256.
 */
class S3TrailerFallbackTest {
    private static final int MIB = 1024 * 1024;
    private static final String BUCKET = "exports";
    private S3ProxyServer server;
    private S3Client check;

    @BeforeEach
    void startServer() throws Exception {
        server = S3ProxyServer.start("transient", null, false, 0);
        server.createBucket(BUCKET);
        check = server.client();
    }

    @AfterEach
    void stopServer() throws Exception {
        check.close();
        server.close();
    }

    @Test
    void aStoreThatKeepsTheFramingLosesTheFirstObjectAndGetsNoChecksumAfter() throws Exception {
        try (TrailerBlindStore store = new TrailerBlindStore(server.endpoint(), TrailerBlindStore.Mode.STORES_FRAMING)) {
            S3Target target = target(store.endpoint());
            byte[] bytes = SandboxData.bigNdjson(6L * MIB + 17).readAllBytes(); // over one part: one streamed PUT

            assertThatThrownBy(() -> target.putHashed("bulk/job-1/Observation-1.ndjson",
                    new ByteArrayInputStream(bytes), bytes.length, "application/fhir+ndjson"))
                    .isInstanceOf(IOException.class).hasMessageContaining("does not decode aws-chunked")
                    .hasMessageContaining("s3://exports/relay/out/bulk/job-1/Observation-1.ndjson");
            assertThat(stored("bulk/job-1/Observation-1.ndjson")).as("the mangled object is removed").isNull();
            assertThat(target.checksumSupport()).isEqualTo(S3Target.ChecksumSupport.REFUSED);

            // the delivery's retry: no trailer now, the bytes exact, and the SHA-256 still answered
            assertThat(target.hashesWhilePutting(bytes.length)).isTrue();
            Optional<String> sha = target.putHashed("bulk/job-1/Observation-1.ndjson", new ByteArrayInputStream(bytes),
                    bytes.length, "application/fhir+ndjson");
            assertThat(sha).contains(S3TargetTest.sha256(bytes));
            assertThat(stored("bulk/job-1/Observation-1.ndjson")).isEqualTo(bytes);

            byte[] receipt = "{\"files\":[]}".getBytes();
            target.put("bulk/job-1/receipt.json", new ByteArrayInputStream(receipt), -1, "application/json");
            assertThat(stored("bulk/job-1/receipt.json")).isEqualTo(receipt);
            assertThat(store.uploadsWithChecksum).containsExactly(true, false, false);
        }
    }

    /**
     * Two uploads streaming with a trailer at once: the one that ends second, after the first was found framed, is
     * checked too, not taken as delivered with its framing.
     */
    @Test
    void anUploadStreamingWhenTheFramingWasFoundIsCheckedToo() throws Exception {
        try (TrailerBlindStore store = new TrailerBlindStore(server.endpoint(), TrailerBlindStore.Mode.STORES_FRAMING)) {
            S3Target target = target(store.endpoint());
            byte[] bytes = SandboxData.bigNdjson(6L * MIB + 17).readAllBytes();
            CountDownLatch secondStarted = new CountDownLatch(1);
            CountDownLatch firstChecked = new CountDownLatch(1);
            InputStream held = new FilterInputStream(new ByteArrayInputStream(bytes)) {
                private long read;

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (read > MIB) { // the upload is under way, its trailer announced: wait for the other's check
                        secondStarted.countDown();
                        await(firstChecked);
                    }
                    int n = super.read(b, off, (int) Math.min(len, MIB));
                    read += Math.max(n, 0);
                    return n;
                }
            };
            CompletableFuture<Optional<String>> second = CompletableFuture.supplyAsync(() -> {
                try {
                    return target.putHashed("bulk/job-5/b.ndjson", held, bytes.length, "application/fhir+ndjson");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            assertThat(secondStarted.await(10, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(() -> target.putHashed("bulk/job-5/a.ndjson", new ByteArrayInputStream(bytes),
                    bytes.length, "application/fhir+ndjson")).hasMessageContaining("does not decode aws-chunked");
            firstChecked.countDown();

            assertThatThrownBy(() -> second.get(20, TimeUnit.SECONDS)).hasRootCauseInstanceOf(IOException.class)
                    .hasMessageContaining("does not decode aws-chunked").hasMessageContaining("b.ndjson");
            assertThat(stored("bulk/job-5/b.ndjson")).as("the second framed object is removed too").isNull();
            assertThat(store.uploadsWithChecksum).containsExactly(true, true);
        }
    }

    private static void await(CountDownLatch latch) throws IOException {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException();
        }
    }

    /** Credentials that may write but not remove (docs/targets.md's policy): the retry replaces the object. */
    @Test
    void aMangledObjectThatCannotBeRemovedIsReplacedByTheRetryWithoutAChecksum() throws Exception {
        try (TrailerBlindStore store = new TrailerBlindStore(server.endpoint(), TrailerBlindStore.Mode.STORES_FRAMING)) {
            store.denied.add("DELETE");
            S3Target target = target(store.endpoint());
            byte[] bytes = SandboxData.bigNdjson(6L * MIB + 17).readAllBytes();

            assertThatThrownBy(() -> target.putHashed("bulk/job-3/Observation-1.ndjson",
                    new ByteArrayInputStream(bytes), bytes.length, "application/fhir+ndjson"))
                    .isInstanceOf(IOException.class).hasMessageContaining("does not decode aws-chunked")
                    .hasMessageContaining("not removed").hasMessageContaining("AccessDenied")
                    .hasMessageNotContaining(S3ProxyServer.SECRET_KEY);
            assertThat(target.checksumSupport()).isEqualTo(S3Target.ChecksumSupport.REFUSED);

            Optional<String> sha = target.putHashed("bulk/job-3/Observation-1.ndjson", new ByteArrayInputStream(bytes),
                    bytes.length, "application/fhir+ndjson");
            assertThat(sha).contains(S3TargetTest.sha256(bytes));
            assertThat(stored("bulk/job-3/Observation-1.ndjson")).isEqualTo(bytes);
            assertThat(store.uploadsWithChecksum).containsExactly(true, false);
        }
    }

    @Test
    void aStoreThatRefusesChecksumsGetsNoneAfterItsFirstRefusal() throws Exception {
        try (TrailerBlindStore store = new TrailerBlindStore(server.endpoint(), TrailerBlindStore.Mode.REFUSES)) {
            S3Target target = target(store.endpoint());
            byte[] part = SandboxData.bigNdjson(MIB).readAllBytes(); // one buffered PutObject

            assertThatThrownBy(() -> target.put("bulk/job-2/a.ndjson", new ByteArrayInputStream(part), -1,
                    "application/fhir+ndjson")).isInstanceOf(IOException.class).hasMessageContaining("501");
            assertThat(target.checksumSupport()).isEqualTo(S3Target.ChecksumSupport.REFUSED);

            target.put("bulk/job-2/a.ndjson", new ByteArrayInputStream(part), -1, "application/fhir+ndjson");
            byte[] parts = SandboxData.bigNdjson(11L * MIB).readAllBytes(); // unknown length: a multipart upload
            target.put("bulk/job-2/b.ndjson", new ByteArrayInputStream(parts), -1, "application/fhir+ndjson");

            assertThat(stored("bulk/job-2/a.ndjson")).isEqualTo(part);
            assertThat(stored("bulk/job-2/b.ndjson")).isEqualTo(parts);
            assertThat(store.uploadsWithChecksum).first().isEqualTo(true);
            assertThat(store.uploadsWithChecksum.subList(1, store.uploadsWithChecksum.size())).containsOnly(false);
        }
    }

    @Test
    void aStoreThatKeepsTheTrailerIsCheckedAtTheFirstStreamedObject() throws Exception {
        try (S3ProxyServer signed = S3ProxyServer.start()) {
            signed.createBucket(BUCKET);
            S3Target target = target(signed.endpoint(), S3ProxyServer.ACCESS_KEY);
            byte[] small = SandboxData.bigNdjson(MIB).readAllBytes();
            target.put("a/one.ndjson", new ByteArrayInputStream(small), -1, "application/fhir+ndjson");
            assertThat(target.checksumSupport()).as("a header checksum has no framing to check")
                    .isEqualTo(S3Target.ChecksumSupport.UNTRIED);
            byte[] big = SandboxData.bigNdjson(6L * MIB).readAllBytes();
            target.put("a/two.ndjson", new ByteArrayInputStream(big), big.length, "application/fhir+ndjson");
            assertThat(target.checksumSupport()).isEqualTo(S3Target.ChecksumSupport.WORKS);
        }
    }

    /** Credentials that may write but not read: the length cannot be checked, so the store is trusted. */
    @Test
    void aStoreThatDeniesTheLengthCheckIsTrustedNotUploadedToAgain() throws Exception {
        try (TrailerBlindStore store = new TrailerBlindStore(server.endpoint(), TrailerBlindStore.Mode.KNOWS_CHECKSUMS)) {
            store.denied.add("HEAD");
            S3Target target = target(store.endpoint());
            byte[] bytes = SandboxData.bigNdjson(6L * MIB + 17).readAllBytes();

            Optional<String> sha = target.putHashed("bulk/job-4/Observation-1.ndjson", new ByteArrayInputStream(bytes),
                    bytes.length, "application/fhir+ndjson");

            assertThat(sha).contains(S3TargetTest.sha256(bytes));
            assertThat(stored("bulk/job-4/Observation-1.ndjson")).isEqualTo(bytes);
            assertThat(target.checksumSupport()).isEqualTo(S3Target.ChecksumSupport.WORKS);
            assertThat(store.uploadsWithChecksum).containsExactly(true);
        }
    }

    /** Only a 501, or a 400 that names what a checksum brings, turns checksums off; an outage never does. */
    @Test
    void whatCountsAsARefusalOfTheTrailer() {
        assertThat(S3Target.refusesChecksum(error(501, "NotImplemented", "not implemented"))).isTrue();
        assertThat(S3Target.refusesChecksum(error(400, "InvalidArgument",
                "Unsupported header 'x-amz-trailer' received for this API call"))).isTrue();
        assertThat(S3Target.refusesChecksum(error(400, "InvalidRequest",
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value"))).isTrue();
        assertThat(S3Target.refusesChecksum(error(400, "InvalidBucketName", "The specified bucket is not valid"))).isFalse();
        assertThat(S3Target.refusesChecksum(error(400, "BadDigest",
                "The SHA256 you specified did not match the calculated checksum."))).isFalse();
        assertThat(S3Target.refusesChecksum(error(400, "XAmzContentChecksumMismatch",
                "The provided 'x-amz-checksum' header does not match what was computed."))).isFalse();
        assertThat(S3Target.refusesChecksum(error(403, "AccessDenied", "checksum"))).isFalse();
        assertThat(S3Target.refusesChecksum(error(503, "SlowDown", "Please reduce your request rate"))).isFalse();
        assertThat(S3Target.refusesChecksum(SdkClientException.create("Connection refused"))).isFalse();
    }

    private static S3Exception error(int status, String code, String message) {
        return (S3Exception) S3Exception.builder().statusCode(status).message(message)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(message).build()).build();
    }

    private byte[] stored(String key) {
        try {
            return check.getObjectAsBytes(r -> r.bucket(BUCKET).key("relay/out/" + key)).asByteArray();
        } catch (NoSuchKeyException e) {
            return null;
        }
    }

    /** Against the unauthenticated S3Proxy (through the store in front of it), any key will do. */
    private static S3Target target(URI endpoint) {
        return target(endpoint, "any-key");
    }

    private static S3Target target(URI endpoint, String accessKey) {
        S3Settings settings = settings(endpoint, accessKey);
        return new S3Target(settings, settings.clientBuilder().build(), settings.streamingClientBuilder(null).build());
    }

    /** checksum=sha256, the defaults otherwise (unsigned payload over plain HTTP), 5 MiB parts. */
    private static S3Settings settings(URI endpoint, String accessKey) {
        return new S3Settings(BUCKET, "us-east-1", endpoint, true, accessKey, S3ProxyServer.SECRET_KEY, "/relay/out/",
                null, null, null, 5 * MIB, 2, true, S3Settings.MAX_SINGLE_PUT);
    }
}
