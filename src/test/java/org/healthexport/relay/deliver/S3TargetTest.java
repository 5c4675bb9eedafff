package org.healthexport.relay.deliver;

import org.healthexport.relay.sandbox.SandboxData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** S3Target against a real S3 server (S3Proxy 4.1.0) in this JVM. */
class S3TargetTest {
    private static final int MIB = 1024 * 1024;
    private static final String BUCKET = "exports";
    private final List<SdkHttpRequest> requests = new CopyOnWriteArrayList<>();
    private S3ProxyServer server;
    private S3Client check;

    @BeforeEach
    void startServer() throws Exception {
        server = S3ProxyServer.start();
        server.createBucket(BUCKET);
        check = server.client();
    }

    @AfterEach
    void stopServer() throws Exception {
        check.close();
        server.close();
    }

    @Test
    void fileOfFourPartsIsDeliveredByteExactWithPerPartSha256() throws Exception {
        S3Target target = target(settings(null, null, true));
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        Counting content = new Counting(new DigestInputStream(SandboxData.bigNdjson(17L * MIB + 1000), sent));

        target.put("bulk/job-1/Observation-1.ndjson", content, -1, "application/fhir+ndjson");

        String key = "relay/out/bulk/job-1/Observation-1.ndjson";
        ResponseBytes<GetObjectResponse> stored = check.getObjectAsBytes(r -> r.bucket(BUCKET).key(key));
        assertThat((long) stored.asByteArray().length).isEqualTo(content.count).isGreaterThan(17L * MIB);
        assertThat(sha256(stored.asByteArray())).isEqualTo(HexFormat.of().formatHex(sent.digest()));
        assertThat(stored.response().contentType()).isEqualTo("application/fhir+ndjson");

        List<SdkHttpRequest> parts = requests.stream().filter(r -> r.rawQueryParameters().containsKey("partNumber")).toList();
        assertThat(parts).hasSize(4);
        assertThat(parts).allSatisfy(p -> assertThat(checksumAlgorithm(p)).isEqualTo("SHA256"));
        assertThat(requests).filteredOn(r -> r.rawQueryParameters().containsKey("uploads")).singleElement()
                .satisfies(r -> assertThat(r.firstMatchingHeader("Content-Type")).contains("application/fhir+ndjson"));
        // memory: never more than part-buffers (2) part-sized buffers, however large the file
        assertThat(target.buffersAllocated()).isLessThanOrEqualTo(2);
    }

    @Test
    void smallFileIsOnePutUnderThePrefix() throws Exception {
        S3Target target = target(settings(null, null, true));
        byte[] body = "{\"resourceType\":\"Patient\"}\n".getBytes();

        target.put("bulk/job-1/receipt.json", new ByteArrayInputStream(body), -1, "application/json");

        assertThat(check.getObjectAsBytes(r -> r.bucket(BUCKET).key("relay/out/bulk/job-1/receipt.json")).asByteArray())
                .isEqualTo(body);
        assertThat(requests).singleElement().satisfies(r -> {
            assertThat(r.method().name()).isEqualTo("PUT");
            assertThat(r.rawQueryParameters()).isEmpty();
            assertThat(checksumAlgorithm(r)).isEqualTo("SHA256");
        });
        assertThat(target.exists("bulk/job-1/receipt.json")).isTrue();
        assertThat(target.exists("bulk/job-1/other.json")).isFalse();
        assertThat(target.locate("bulk/job-1/receipt.json")).isEqualTo("s3://exports/relay/out/bulk/job-1/receipt.json");
    }

    @Test
    void serverSideEncryptionHeadersAreSentOnPutAndMultipartCreate() throws Exception {
        S3Target kms = target(settings("aws:kms", "arn:aws:kms:us-east-1:111122223333:key/relay-test", true));
        kms.put("a/small.json", new ByteArrayInputStream(new byte[100]), -1, "application/json");
        kms.put("a/large.ndjson", SandboxData.bigNdjson(6L * MIB), -1, "application/fhir+ndjson");

        List<SdkHttpRequest> writes = requests.stream().filter(r -> r.method().name().matches("PUT|POST")
                && !r.rawQueryParameters().containsKey("partNumber") && !r.rawQueryParameters().containsKey("uploadId"))
                .toList();
        assertThat(writes).hasSize(2).allSatisfy(r -> {
            assertThat(r.firstMatchingHeader("x-amz-server-side-encryption")).contains("aws:kms");
            assertThat(r.firstMatchingHeader("x-amz-server-side-encryption-aws-kms-key-id"))
                    .contains("arn:aws:kms:us-east-1:111122223333:key/relay-test");
        });

        requests.clear();
        S3Target aes = target(settings("AES256", null, true));
        aes.put("a/aes.json", new ByteArrayInputStream(new byte[100]), -1, "application/json");
        assertThat(requests).singleElement().satisfies(r -> {
            assertThat(r.firstMatchingHeader("x-amz-server-side-encryption")).contains("AES256");
            assertThat(r.firstMatchingHeader("x-amz-server-side-encryption-aws-kms-key-id")).isEmpty();
        });
        assertThat(check.headObject(r -> r.bucket(BUCKET).key("relay/out/a/aes.json")).contentLength()).isEqualTo(100);
    }

    @Test
    void announcedLengthGoesAsOneStreamedPutByteExact() throws Exception {
        S3Target target = target(settings(null, null, true));
        long size = 12L * MIB + 300;
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        // closed means closed, as a download's stream: the SDK closes the body once it is sent
        InputStream content = new ClosedMeansClosed(new DigestInputStream(SandboxData.bigNdjson(size), sent));
        long length = SandboxData.bigNdjson(size).readAllBytes().length;

        target.put("bulk/job-3/Observation-1.ndjson", content, length, "application/fhir+ndjson");

        String key = "relay/out/bulk/job-3/Observation-1.ndjson";
        ResponseBytes<GetObjectResponse> stored = check.getObjectAsBytes(r -> r.bucket(BUCKET).key(key));
        assertThat((long) stored.asByteArray().length).isEqualTo(length);
        assertThat(sha256(stored.asByteArray())).isEqualTo(HexFormat.of().formatHex(sent.digest()));
        assertThat(stored.response().contentType()).isEqualTo("application/fhir+ndjson");
        assertThat(uploads()).singleElement().satisfies(r -> {
            assertThat(r.rawQueryParameters()).doesNotContainKeys("partNumber", "uploads");
            assertThat(checksumAlgorithm(r)).isEqualTo("SHA256");
        });
        // the store's first object streamed with a trailer is checked once, by its length (S3TrailerFallbackTest)
        assertThat(requests).extracting(r -> r.method().name()).containsExactly("PUT", "HEAD");
        assertThat(target.checksumSupport()).isEqualTo(S3Target.ChecksumSupport.WORKS);
        target.put("bulk/job-3/Observation-2.ndjson", SandboxData.bigNdjson(size), length, "application/fhir+ndjson");
        assertThat(requests).extracting(r -> r.method().name()).containsExactly("PUT", "HEAD", "PUT");
        assertThat(target.buffersAllocated()).isZero(); // streamed: no part buffer
    }

    /** The receipt's SHA-256 of a streamed PUT is the one the SDK sent as the object's checksum: one hash pass, not two. */
    @Test
    void aStreamedPutAnswersTheSha256ItSentSignedOrNot() throws Exception {
        long size = 7L * MIB + 5;
        byte[] bytes = SandboxData.bigNdjson(size).readAllBytes();
        for (S3Settings.SignPayload sign : S3Settings.SignPayload.values()) {
            S3Target target = target(settings(true, sign));
            assertThat(target.hashesWhilePutting(bytes.length)).isTrue();

            Optional<String> sha = target.putHashed("bulk/job-7/" + sign + ".ndjson", new ByteArrayInputStream(bytes),
                    bytes.length, "application/fhir+ndjson");

            assertThat(sha).as(sign.name()).contains(sha256(bytes));
            assertThat(sha256(check.getObjectAsBytes(r -> r.bucket(BUCKET).key("relay/out/bulk/job-7/" + sign
                    + ".ndjson")).asByteArray())).isEqualTo(sha256(bytes));
        }
    }

    /** Parts, an unknown length or no checksum: the target computes no SHA-256, so the relay hashes the bytes. */
    @Test
    void otherwiseTheTargetAnswersNoSha256() throws Exception {
        S3Target target = target(settings(true, S3Settings.SignPayload.AUTO));
        assertThat(target.hashesWhilePutting(-1)).isFalse();
        assertThat(target.hashesWhilePutting(MIB)).isFalse(); // one part: a plain PutObject
        assertThat(target.putHashed("a/unknown-length.ndjson", SandboxData.bigNdjson(6L * MIB), -1,
                "application/fhir+ndjson")).isEmpty();
        assertThat(target(settings(false, S3Settings.SignPayload.AUTO)).hashesWhilePutting(7L * MIB)).isFalse();
    }

    /** A spool delivered with putMeasured (HealthEx's pull): the right count and SHA-256, streamed or in parts. */
    @Test
    void putMeasuredAnswersTheBytesAndSha256StreamedOrInParts() throws Exception {
        S3Target target = target(settings(true, S3Settings.SignPayload.AUTO));
        byte[] bytes = SandboxData.bigNdjson(6L * MIB + 3).readAllBytes();

        DeliveryTarget.Stored streamed = target.putMeasured("hx/streamed.ndjson", new ByteArrayInputStream(bytes),
                bytes.length, "application/fhir+ndjson");
        DeliveryTarget.Stored parts = target.putMeasured("hx/parts.ndjson", new ByteArrayInputStream(bytes), -1,
                "application/fhir+ndjson");

        assertThat(streamed).isEqualTo(new DeliveryTarget.Stored(bytes.length, sha256(bytes)));
        assertThat(parts).isEqualTo(new DeliveryTarget.Stored(bytes.length, sha256(bytes)));
        for (String key : List.of("relay/out/hx/streamed.ndjson", "relay/out/hx/parts.ndjson")) {
            assertThat(check.getObjectAsBytes(r -> r.bucket(BUCKET).key(key)).asByteArray()).as(key).isEqualTo(bytes);
        }
    }

    /** Should an SDK upgrade stop handing the value back, the stored object is read back: the receipt stays right. */
    @Test
    void withoutTheSdksValueTheStoredObjectIsHashed() throws Exception {
        S3Settings settings = settings(true, S3Settings.SignPayload.AUTO);
        S3ClientBuilder streaming = settings.streamingClientBuilder(null);
        streaming.overrideConfiguration(streaming.overrideConfiguration().toBuilder()
                .executionInterceptors(new ArrayList<>()).build()); // no SentChecksum
        S3Target target = new S3Target(settings, settings.clientBuilder().build(), streaming.build());
        byte[] bytes = SandboxData.bigNdjson(7L * MIB).readAllBytes();

        assertThat(target.putHashed("a/read-back.ndjson", new ByteArrayInputStream(bytes), bytes.length,
                "application/fhir+ndjson")).contains(sha256(bytes));
    }

    @Test
    void announcedLengthNotMetStoresNothing() throws Exception {
        S3Target target = target(settings(null, null, false));
        byte[] body = SandboxData.bigNdjson(8L * MIB).readAllBytes();

        assertThatThrownBy(() -> target.put("bulk/job-4/short.ndjson", new ByteArrayInputStream(body),
                body.length + 4096L, "application/fhir+ndjson"))
                .isInstanceOf(IOException.class).hasMessageContaining("ended after");
        assertThatThrownBy(() -> target.put("bulk/job-4/long.ndjson", new ClosedMeansClosed(new ByteArrayInputStream(body)),
                body.length - 4096L, "application/fhir+ndjson"))
                .isInstanceOf(IOException.class).hasMessageContaining("more than");
        IOException cut = new IOException("source connection cut");
        assertThatThrownBy(() -> target.put("bulk/job-4/cut.ndjson",
                new FailingAfter(new ByteArrayInputStream(body), 6L * MIB, cut), body.length, "application/fhir+ndjson"))
                .isSameAs(cut);

        assertNothingStored("relay/out/bulk/job-4/short.ndjson");
        assertNothingStored("relay/out/bulk/job-4/long.ndjson");
        assertNothingStored("relay/out/bulk/job-4/cut.ndjson");
    }

    @Test
    void sourceFailureMidUploadAbortsAndLeavesNothing() {
        S3Target target = target(settings(null, null, true));
        IOException cut = new IOException("source connection cut");
        InputStream content = new FailingAfter(SandboxData.bigNdjson(30L * MIB), 12L * MIB, cut);

        assertThatThrownBy(() -> target.put("bulk/job-2/Observation-1.ndjson", content, -1, "application/fhir+ndjson"))
                .isSameAs(cut);

        assertThat(requests).anyMatch(r -> r.method().name().equals("DELETE") && r.rawQueryParameters().containsKey("uploadId"));
        assertNothingStored("relay/out/bulk/job-2/Observation-1.ndjson");
    }

    @Test
    void outageSurfacesAsIOExceptionAndDeliveryWorksWhenTheServerIsBack() throws Exception {
        S3Target target = target(settings(null, null, true));
        server.stop();

        assertThatThrownBy(() -> target.put("k/small.json", new ByteArrayInputStream(new byte[10]), -1, "application/json"))
                .isInstanceOf(IOException.class).hasMessageContaining("s3://exports/relay/out/k/small.json")
                .hasMessageNotContaining(S3ProxyServer.SECRET_KEY);
        assertThatThrownBy(() -> target.put("k/big.ndjson", SandboxData.bigNdjson(11L * MIB), -1, "application/fhir+ndjson"))
                .isInstanceOf(IOException.class);

        server.restart();
        target.put("k/big.ndjson", SandboxData.bigNdjson(11L * MIB), -1, "application/fhir+ndjson");
        assertThat(sha256(check.getObjectAsBytes(r -> r.bucket(BUCKET).key("relay/out/k/big.ndjson")).asByteArray()))
                .isEqualTo(sha256(SandboxData.bigNdjson(11L * MIB).readAllBytes()));
    }

    @Test
    void outageDuringAMultipartUploadLeavesNoObjectAndARetryCompletes() throws Exception {
        S3Target target = target(settings(null, null, true));
        InputStream content = new FilterInputStream(SandboxData.bigNdjson(16L * MIB)) {
            long read;
            boolean stopped;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (!stopped && read >= 7L * MIB) {
                    stopped = true;
                    stopQuietly();
                }
                int n = super.read(b, off, len);
                read += Math.max(n, 0);
                return n;
            }
        };

        assertThatThrownBy(() -> target.put("k/cut.ndjson", content, -1, "application/fhir+ndjson"))
                .isInstanceOf(IOException.class);

        server.restart();
        assertThatThrownBy(() -> check.headObject(r -> r.bucket(BUCKET).key("relay/out/k/cut.ndjson")))
                .isInstanceOf(NoSuchKeyException.class);
        target.put("k/cut.ndjson", SandboxData.bigNdjson(16L * MIB), -1, "application/fhir+ndjson");
        HeadObjectResponse head = check.headObject(r -> r.bucket(BUCKET).key("relay/out/k/cut.ndjson"));
        assertThat(head.contentLength()).isEqualTo(SandboxData.bigNdjson(16L * MIB).readAllBytes().length);
    }

    @Test
    void checksumNoneSendsNoChecksum() throws Exception {
        S3Target target = target(settings(null, null, false));
        target.put("k/plain.ndjson", SandboxData.bigNdjson(6L * MIB), -1, "application/fhir+ndjson");
        target.put("k/plain.json", new ByteArrayInputStream(new byte[5]), -1, "application/json");

        assertThat(requests).isNotEmpty().allSatisfy(r -> {
            assertThat(checksumAlgorithm(r)).isNull();
            assertThat(r.headers().keySet()).noneMatch(h -> h.toLowerCase().startsWith("x-amz-checksum"));
        });
        assertThat(check.headObject(r -> r.bucket(BUCKET).key("relay/out/k/plain.ndjson")).contentLength())
                .isEqualTo(SandboxData.bigNdjson(6L * MIB).readAllBytes().length);
    }

    /** By default a body the store checks by its SHA-256 goes unsigned, one without a checksum is signed. */
    @Test
    void overPlainHttpOnlyABodyWithoutItsChecksumIsSignedByDefault() throws Exception {
        long size = SandboxData.bigNdjson(6L * MIB).readAllBytes().length;

        target(settings(null, null, true)).put("k/checked.ndjson", SandboxData.bigNdjson(size), size,
                "application/fhir+ndjson");
        target(settings(null, null, false)).put("k/signed.ndjson", SandboxData.bigNdjson(size), size,
                "application/fhir+ndjson");

        assertThat(uploads()).extracting(S3TargetTest::contentSha256)
                .containsExactly("STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    }

    @Test
    void signPayloadAutoLetsTheSdkSignTheStreamedPayloadOverPlainHttp() throws Exception {
        S3Target target = target(settings(true, S3Settings.SignPayload.AUTO));
        long size = SandboxData.bigNdjson(6L * MIB).readAllBytes().length;

        target.put("k/signed.ndjson", SandboxData.bigNdjson(size), size, "application/fhir+ndjson");

        assertThat(uploads()).singleElement().satisfies(r -> assertThat(contentSha256(r))
                .isEqualTo("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"));
    }

    @Test
    void signPayloadNeverStreamsUnsignedOverHttpWithTheTrailingChecksumByteExact() throws Exception {
        S3Target target = target(settings(true, S3Settings.SignPayload.NEVER));
        long size = SandboxData.bigNdjson(12L * MIB).readAllBytes().length;
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        InputStream content = new ClosedMeansClosed(new DigestInputStream(SandboxData.bigNdjson(size), sent));

        target.put("k/unsigned.ndjson", content, size, "application/fhir+ndjson");

        byte[] stored = check.getObjectAsBytes(r -> r.bucket(BUCKET).key("relay/out/k/unsigned.ndjson")).asByteArray();
        assertThat((long) stored.length).isEqualTo(size);
        assertThat(sha256(stored)).isEqualTo(HexFormat.of().formatHex(sent.digest()));
        assertThat(uploads()).singleElement().satisfies(r -> {
            assertThat(r.protocol()).isEqualTo("http");
            assertThat(contentSha256(r)).isEqualTo("STREAMING-UNSIGNED-PAYLOAD-TRAILER");
            assertThat(r.firstMatchingHeader("x-amz-trailer")).hasValue("x-amz-checksum-sha256");
            assertThat(r.firstMatchingHeader("Authorization")).hasValueSatisfying(a -> assertThat(a)
                    .startsWith("AWS4-HMAC-SHA256 "));
        });
    }

    @Test
    void signPayloadNeverSendsPartsAndSmallPutsUnsignedWithTheirSha256() throws Exception {
        S3Target target = target(settings(true, S3Settings.SignPayload.NEVER));
        byte[] small = "{\"resourceType\":\"Patient\"}".getBytes(StandardCharsets.UTF_8);

        target.put("k/parts.ndjson", SandboxData.bigNdjson(11L * MIB), -1, "application/fhir+ndjson");
        target.put("k/small.json", new ByteArrayInputStream(small), -1, "application/json");

        assertThat(check.getObjectAsBytes(r -> r.bucket(BUCKET).key("relay/out/k/parts.ndjson")).asByteArray())
                .isEqualTo(SandboxData.bigNdjson(11L * MIB).readAllBytes());
        assertThat(check.getObjectAsBytes(r -> r.bucket(BUCKET).key("relay/out/k/small.json")).asByteArray())
                .isEqualTo(small);
        List<SdkHttpRequest> bodies = requests.stream().filter(r -> r.method().name().equals("PUT")).toList();
        assertThat(bodies).hasSize(4).allSatisfy(r -> {
            assertThat(contentSha256(r)).isEqualTo("UNSIGNED-PAYLOAD");
            assertThat(r.firstMatchingHeader("x-amz-checksum-sha256")).isPresent();
        });
    }

    @Test
    void signPayloadNeverStillSignsTheRequest() {
        S3Settings wrong = new S3Settings(BUCKET, "us-east-1", server.endpoint(), true, S3ProxyServer.ACCESS_KEY,
                "not-the-secret-7781", "", null, null, null, 5 * MIB, 2, true, S3Settings.MAX_SINGLE_PUT,
                S3Settings.SignPayload.NEVER);
        S3Target target = target(wrong);

        assertThatThrownBy(() -> target.put("k/x.ndjson", SandboxData.bigNdjson(6L * MIB), 6L * MIB,
                "application/fhir+ndjson")).isInstanceOf(IOException.class);
        assertNothingStored("k/x.ndjson");
    }

    @Test
    void refusedCredentialsSurfaceWithoutTheSecret() {
        S3Settings wrong = new S3Settings(BUCKET, "us-east-1", server.endpoint(), true, S3ProxyServer.ACCESS_KEY,
                "not-the-secret-7781", "", null, null, null, 5 * MIB, 2, true, S3Settings.MAX_SINGLE_PUT);
        S3Target target = target(wrong);

        assertThatThrownBy(() -> target.put("k/x.json", new ByteArrayInputStream(new byte[5]), -1, "application/json"))
                .isInstanceOf(IOException.class)
                .satisfies(e -> assertThat(stackText(e)).doesNotContain("not-the-secret-7781"));
        assertThat(wrong.toString()).doesNotContain("not-the-secret-7781");
    }

    @Test
    void theCheckAsksTheBucketThroughBothClientsAndWritesNothing() throws Exception {
        S3Target target = target(settings(null, null, true));

        assertThat(target.check()).isEqualTo("S3 bucket s3://exports at " + server.endpoint() + " answers");
        assertThat(requests).extracting(r -> r.method().name() + " " + r.encodedPath())
                .containsExactly("HEAD /exports", "HEAD /exports");
        assertThat(check.listObjectsV2(r -> r.bucket(BUCKET)).contents()).isEmpty();
    }

    @Test
    void theCheckSaysABucketIsMissingOrRefusedWithoutTheSecret() {
        S3Settings missing = new S3Settings("no-such-bucket", "us-east-1", server.endpoint(), true,
                S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY, "", null, null, null, 5 * MIB, 2, true,
                S3Settings.MAX_SINGLE_PUT);
        assertThatThrownBy(() -> target(missing).check()).isInstanceOf(IOException.class)
                .hasMessage("S3 bucket s3://no-such-bucket at " + server.endpoint()
                        + " does not exist (HeadBucket answered 404)");

        S3Settings wrong = new S3Settings(BUCKET, "us-east-1", server.endpoint(), true, S3ProxyServer.ACCESS_KEY,
                "not-the-secret-7781", "", null, null, null, 5 * MIB, 2, true, S3Settings.MAX_SINGLE_PUT);
        assertThatThrownBy(() -> target(wrong).check()).isInstanceOf(IOException.class)
                .hasMessageContaining("refused HeadBucket (403): the credentials are wrong, or they may not"
                        + " s3:ListBucket")
                .satisfies(e -> assertThat(stackText(e)).doesNotContain("not-the-secret-7781"));
    }

    @Test
    void theCheckOfAStoreThatDoesNotAnswerNamesTheBucket() throws Exception {
        URI closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = URI.create("http://127.0.0.1:" + socket.getLocalPort());
        }
        S3Settings away = new S3Settings(BUCKET, "us-east-1", closed, true, S3ProxyServer.ACCESS_KEY,
                S3ProxyServer.SECRET_KEY, "", null, null, null, 5 * MIB, 2, true, S3Settings.MAX_SINGLE_PUT);

        assertThatThrownBy(() -> target(away).check()).isInstanceOf(IOException.class)
                .hasMessageStartingWith("S3 check of s3://exports at " + closed);
    }

    private void assertNothingStored(String key) {
        assertThatThrownBy(() -> check.headObject(r -> r.bucket(BUCKET).key(key))).isInstanceOf(NoSuchKeyException.class);
        assertThat(check.listMultipartUploads(r -> r.bucket(BUCKET)).uploads()).isEmpty();
    }

    private S3Settings settings(String sse, String kmsKeyId, boolean sha256) {
        return new S3Settings(BUCKET, "us-east-1", server.endpoint(), true, S3ProxyServer.ACCESS_KEY,
                S3ProxyServer.SECRET_KEY, "/relay/out/", sse, kmsKeyId, null, 5 * MIB, 2, sha256, S3Settings.MAX_SINGLE_PUT);
    }

    private S3Settings settings(boolean sha256, S3Settings.SignPayload signPayload) {
        return new S3Settings(BUCKET, "us-east-1", server.endpoint(), true, S3ProxyServer.ACCESS_KEY,
                S3ProxyServer.SECRET_KEY, "/relay/out/", null, null, null, 5 * MIB, 2, sha256,
                S3Settings.MAX_SINGLE_PUT, signPayload);
    }

    /** The requests that carried a body (PUT), without the reads and checks around them. */
    private List<SdkHttpRequest> uploads() {
        return requests.stream().filter(r -> r.method().name().equals("PUT")).toList();
    }

    private static String contentSha256(SdkHttpRequest r) {
        return r.firstMatchingHeader("x-amz-content-sha256").orElse(null);
    }

    /** The target with clients that record every request they send. */
    private S3Target target(S3Settings settings) {
        ExecutionInterceptor recorder = new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                requests.add(context.httpRequest());
            }
        };
        return new S3Target(settings, recording(settings.clientBuilder(), recorder),
                recording(settings.streamingClientBuilder(null), recorder));
    }

    /** Adds the interceptor to the builder's own override configuration (which a new one would replace). */
    private static S3Client recording(S3ClientBuilder builder, ExecutionInterceptor recorder) {
        return builder.overrideConfiguration(builder.overrideConfiguration().toBuilder()
                .addExecutionInterceptor(recorder).build()).build();
    }

    private void stopQuietly() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String checksumAlgorithm(SdkHttpRequest r) {
        return r.firstMatchingHeader("x-amz-sdk-checksum-algorithm")
                .or(() -> r.firstMatchingHeader("x-amz-checksum-algorithm"))
                .or(() -> r.firstMatchingHeader("x-amz-trailer").map(t -> t.replace("x-amz-checksum-", "").toUpperCase()))
                .or(() -> r.headers().keySet().stream().filter(h -> h.equalsIgnoreCase("x-amz-checksum-sha256"))
                        .findFirst().map(h -> "SHA256"))
                .orElse(null);
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static String stackText(Throwable e) {
        StringWriter out = new StringWriter();
        e.printStackTrace(new PrintWriter(out));
        return out.toString();
    }

    /** Counts the bytes read. */
    /** Refuses reads once closed, as a network stream does (a ByteArrayInputStream would not). */
    static final class ClosedMeansClosed extends FilterInputStream {
        private boolean closed;

        ClosedMeansClosed(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            if (closed) {
                throw new IOException("Stream closed");
            }
            return super.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (closed) {
                throw new IOException("Stream closed");
            }
            return super.read(b, off, len);
        }

        @Override
        public void close() throws IOException {
            closed = true;
            super.close();
        }
    }

    static final class Counting extends FilterInputStream {
        long count;

        Counting(InputStream in) {
            super(in);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            count += Math.max(n, 0);
            return n;
        }
    }

    /** Gives {@code limit} bytes, then throws {@code failure}: a source connection cut mid-file. */
    static final class FailingAfter extends FilterInputStream {
        private final long limit;
        private final IOException failure;
        private long read;

        FailingAfter(InputStream in, long limit, IOException failure) {
            super(in);
            this.limit = limit;
            this.failure = failure;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (read >= limit) {
                throw failure;
            }
            int n = super.read(b, off, (int) Math.min(len, limit - read));
            read += Math.max(n, 0);
            return n;
        }
    }
}
