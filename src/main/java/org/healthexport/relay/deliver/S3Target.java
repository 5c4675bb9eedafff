package org.healthexport.relay.deliver;

import org.healthexport.relay.http.OutboundTls;
import org.healthexport.relay.job.Hashes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

/**
 * Delivers into an S3 bucket (or an S3-compatible store) with the AWS SDK's multipart API, driven here part by
 * part rather than through camel-aws2-s3: that producer reads a stream of unknown length (which every source
 * download is) whole into memory before it uploads, and the SDK's own transfer manager needs the async
 * client. Here each part is read into a buffer from a shared, bounded pool and sent with its known length by
 * an upload thread while the next part is read, so memory stays at {@code part-buffers × part-size} whatever
 * the file size and however many files are delivered at once, and the download and the uploads (several parts
 * at once when buffers are free) overlap. A body smaller than one part goes as one PutObject.
 *
 * <p>A body whose length the source announced (up to {@code single-put-max}) is streamed instead in one
 * PutObject, with no buffer and no part: the store writes it as it comes, and skips the copy that completing
 * a multipart upload costs it. The length is enforced: a body that ends early or runs long fails the PUT.
 *
 * <p>Nothing is visible under the final key before CompleteMultipartUpload; any failure aborts the upload,
 * so no half object and no stored parts remain. With {@code checksum=sha256} every part (and a single PUT)
 * carries its SHA-256, which S3 verifies; the file's full SHA-256 is computed by {@link Delivery}.
 *
 * <p>Not every S3-compatible store knows these checksums (a header on a buffered body, the trailer of an
 * {@code aws-chunked} body on a streamed one): some refuse them, and a store that ignores the chunked encoding
 * keeps the chunk framing as the object's bytes. So a store's refusal of the first upload with a checksum, or a
 * streamed object whose stored length is not the bytes sent (checked until one is stored whole), means the store
 * gets no checksum from then on (the relay hashes the bytes itself for the receipt); the failed upload's object is
 * removed and the file delivered again. See {@link ChecksumSupport}.
 */
public class S3Target implements DeliveryTarget {
    private static final Logger LOG = LoggerFactory.getLogger(S3Target.class);
    private static final int MAX_PARTS = 10_000;
    private static final int READ_CHUNK = 64 * 1024;
    /** What a store says when it refuses a checksum (see {@link #refusesChecksum}). */
    private static final Pattern CHECKSUM_WORDS =
            Pattern.compile("checksum|trailer|chunk|content-sha256|content-encoding|not ?implemented");
    /** A checksum that did not match: the store knows checksums and caught bytes changed on the way. */
    private static final Set<String> MISMATCH = Set.of("BadDigest", "InvalidDigest",
            "XAmzContentSHA256Mismatch", "XAmzContentChecksumMismatch");
    private final S3Settings settings;
    private final S3Client s3;
    private final S3Client streaming;
    private final PartBuffers buffers;
    private final TargetSecrets secrets;
    private final AtomicReference<ChecksumSupport> checksums = new AtomicReference<>(ChecksumSupport.UNTRIED);
    private final ExecutorService partUploads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "s3-part-upload");
        t.setDaemon(true);
        return t;
    });

    public S3Target(S3Settings settings, S3Client s3, S3Client streaming) {
        this.settings = settings;
        this.s3 = s3;
        this.streaming = streaming;
        this.buffers = new PartBuffers(settings.partBuffers(), settings.partSize());
        this.secrets = new TargetSecrets(settings.secrets());
    }

    public static S3Target create(S3Settings settings) {
        return create(settings, null);
    }

    /** With the relay's outbound TLS trust ({@code relay.http.trust-store}, ...); null: the JDK's default CAs. */
    public static S3Target create(S3Settings settings, OutboundTls tls) {
        LOG.info("Delivering to {}", settings);
        return new S3Target(settings, settings.clientBuilder(tls).build(), settings.streamingClientBuilder(tls).build());
    }

    S3Settings settings() {
        return settings;
    }

    /** Upload buffers made so far (bounded by {@code part-buffers}). */
    int buffersAllocated() {
        return buffers.allocated();
    }

    @Override
    public String kind() {
        return "s3";
    }

    /** What this store was found to do with the checksums sent with {@code checksum=sha256}. */
    enum ChecksumSupport {
        /** No streamed object has been stored with its trailer yet: each one is checked until one is. */
        UNTRIED,
        /** A streamed object stored with its trailer kept its exact length: trusted from then on. */
        WORKS,
        /** The store refused a checksum or stored the chunk framing: no checksum is sent any more. */
        REFUSED
    }

    ChecksumSupport checksumSupport() {
        return checksums.get();
    }

    /** Whether the next upload carries its SHA-256: asked for, and not refused by this store. */
    private boolean sendsChecksum() {
        return settings.sha256() && checksums.get() != ChecksumSupport.REFUSED;
    }

    @Override
    public void put(String key, InputStream content, long length, String contentType) throws IOException {
        putHashed(key, content, length, contentType);
    }

    /** A streamed PutObject with the SHA-256 checksum: the SDK hashes every byte for it anyway. */
    @Override
    public boolean hashesWhilePutting(long length) {
        return settings.sha256() && streams(length);
    }

    @Override
    public Optional<String> putHashed(String key, InputStream content, long length, String contentType)
            throws IOException {
        String objectKey = settings.objectKey(key);
        if (streams(length)) {
            boolean checksum = sendsChecksum();
            if (settings.sha256() && !checksum) {
                // the store takes no checksum, but the caller counts on this target for the SHA-256
                MessageDigest sha256 = Hashes.sha256();
                streamObject(objectKey, new DigestInputStream(content, sha256), length, contentType, false);
                return Optional.of(HexFormat.of().formatHex(sha256.digest()));
            }
            byte[] sent = streamObject(objectKey, content, length, contentType, checksum);
            if (!checksum) {
                return Optional.empty();
            }
            return Optional.of(sent != null ? HexFormat.of().formatHex(sent) : storedSha256(objectKey));
        }
        putInParts(objectKey, content, contentType);
        return Optional.empty();
    }

    private boolean streams(long length) {
        return length > settings.partSize() && length <= settings.singlePutMax();
    }

    private void putInParts(String objectKey, InputStream content, String contentType) throws IOException {
        byte[] chunk = new byte[READ_CHUNK];
        ByteBuffer first = buffers.take();
        int n;
        try {
            n = readPart(content, first, chunk);
        } catch (IOException | RuntimeException e) {
            buffers.release(first);
            throw e;
        }
        if (n < first.capacity()) {
            putObject(objectKey, first, n, contentType);
        } else {
            multipart(objectKey, first, content, chunk, contentType);
        }
    }

    private PutObjectRequest putRequest(String objectKey, long length, String contentType, boolean checksum) {
        return PutObjectRequest.builder().bucket(settings.bucket()).key(objectKey)
                .contentType(contentType).contentLength(length)
                .serverSideEncryption(settings.sse()).ssekmsKeyId(settings.kmsKeyId())
                .storageClass(settings.storageClass())
                .checksumAlgorithm(checksum ? ChecksumAlgorithm.SHA256 : null).build();
    }

    /**
     * One PutObject reading {@code content} as it is sent: nothing is stored unless all {@code length} bytes arrive.
     * Answers the SHA-256 the SDK sent as the object's checksum, or null when it sent none or did not hand it back.
     */
    private byte[] streamObject(String objectKey, InputStream content, long length, String contentType,
                                boolean checksum) throws IOException {
        ExactLength exact = new ExactLength(content, length);
        boolean[] opened = {false};
        RequestBody body = RequestBody.fromContentProvider(() -> {
            if (opened[0]) {
                throw new IllegalStateException("A streamed body cannot be sent twice");
            }
            opened[0] = true;
            return exact;
        }, length, contentType);
        AtomicReference<byte[]> sent = new AtomicReference<>();
        PutObjectRequest request = putRequest(objectKey, length, contentType, checksum).toBuilder()
                .overrideConfiguration(o -> o.putExecutionAttribute(SentChecksum.HOLDER, sent)).build();
        try {
            streaming.putObject(request, body);
            if (!exact.atEnd()) {
                // the HTTP client sends exactly Content-Length bytes: more from the source means a wrong length
                s3.deleteObject(r -> r.bucket(settings.bucket()).key(objectKey));
                throw new IOException("The source sent more than the " + length + " bytes it announced; "
                        + locateObject(objectKey) + " was removed");
            }
        } catch (SdkException e) {
            if (exact.failure() != null) {
                throw exact.failure(); // the source's side failed, not the store: said as it is
            }
            throw uploadFailure(objectKey, e, checksum);
        }
        checkTrailer(objectKey, length, checksum);
        return sent.get();
    }

    /**
     * The SHA-256 of a stored object, read back: only when the SDK did not hand back the checksum it sent (a
     * change in its protected API); slow, but the receipt stays right.
     */
    private String storedSha256(String objectKey) throws IOException {
        LOG.warn("The S3 SDK did not hand back the SHA-256 it sent with {}; reading the object back to hash it",
                locateObject(objectKey));
        MessageDigest sha256 = Hashes.sha256();
        try (InputStream stored = s3.getObject(r -> r.bucket(settings.bucket()).key(objectKey))) {
            byte[] chunk = new byte[READ_CHUNK];
            for (int n = stored.read(chunk); n >= 0; n = stored.read(chunk)) {
                sha256.update(chunk, 0, n);
            }
        } catch (SdkException e) {
            throw secrets.failure("S3 read-back of " + locateObject(objectKey), e);
        }
        return HexFormat.of().formatHex(sha256.digest());
    }

    private void putObject(String objectKey, ByteBuffer buffer, int length, String contentType) throws IOException {
        boolean checksum = sendsChecksum();
        try {
            s3.putObject(putRequest(objectKey, length, contentType, checksum), body(buffer, length, contentType));
        } catch (SdkException e) {
            throw uploadFailure(objectKey, e, checksum);
        } finally {
            buffers.release(buffer);
        }
    }

    /**
     * An object streamed with a trailing checksum before the store was found to decode them: its stored length must
     * be the bytes sent. A store that ignored the {@code aws-chunked} encoding kept the chunk framing too, so the
     * object is longer: it is removed, and this store gets no checksum from then on. Uploads already streaming
     * with a trailer when another upload found that out are checked all the same: theirs were framed too.
     */
    private void checkTrailer(String objectKey, long sentBytes, boolean checksum) throws IOException {
        if (!checksum || checksums.get() == ChecksumSupport.WORKS) {
            return;
        }
        long stored;
        try {
            stored = s3.headObject(r -> r.bucket(settings.bucket()).key(objectKey)).contentLength();
        } catch (SdkException e) {
            if (!(e instanceof S3Exception s3e) || s3e.statusCode() != 403) {
                throw secrets.failure("S3 upload of " + locateObject(objectKey) + " (its stored length)", e);
            }
            // credentials that may write but not read (no s3:GetObject): failing here would upload the file again
            // and again. A store that checks access (AWS S3, MinIO, Ceph) decodes aws-chunked, so it is trusted.
            if (checksums.compareAndSet(ChecksumSupport.UNTRIED, ChecksumSupport.WORKS)) {
                LOG.info("{}: the stored length of a streamed upload cannot be read back (403 to HeadObject), so"
                        + " the store is trusted to decode aws-chunked uploads; grant s3:GetObject to have it"
                        + " checked, or set relay.target.s3.checksum=none for a store that does not", locate(""));
            }
            return;
        }
        if (stored == sentBytes) {
            checksums.compareAndSet(ChecksumSupport.UNTRIED, ChecksumSupport.WORKS);
            return;
        }
        // turned off before the removal: a removal the credentials may not allow must not make every retry
        // send the trailer again; the retry's upload replaces the object under the same key anyway
        refuseChecksums("kept " + stored + " bytes of an upload of " + sentBytes + " with a trailing checksum (it"
                + " stored the aws-chunked framing too)");
        String removed;
        try {
            s3.deleteObject(r -> r.bucket(settings.bucket()).key(objectKey));
            removed = "removed";
        } catch (SdkException e) {
            removed = "not removed (" + secrets.failure("S3 removal", e).getMessage() + "), replaced by the retry";
        }
        throw new IOException("S3 upload of " + locateObject(objectKey) + " was stored as " + stored
                + " bytes instead of " + sentBytes + ": the store does not decode aws-chunked uploads; " + removed
                + ", and delivered again without a checksum");
    }

    /** An upload's failure; a refusal of its checksum, before one was ever stored, turns them off for this store. */
    private IOException uploadFailure(String objectKey, SdkException e, boolean checksum) {
        IOException failure = secrets.failure("S3 upload of " + locateObject(objectKey), e);
        if (checksum && checksums.get() == ChecksumSupport.UNTRIED && refusesChecksum(e)) {
            refuseChecksums("refused an upload with a checksum (" + failure.getMessage() + ")");
        }
        return failure;
    }

    /**
     * A 501, or a 400 that names what a checksum brings (stores word it differently: "NotImplemented",
     * "x-amz-trailer", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "aws-chunked", "checksum algorithm"...). Other
     * failures, an outage, a refused key or a checksum that did not match among them, leave the checksums on.
     */
    static boolean refusesChecksum(SdkException e) {
        if (!(e instanceof S3Exception s3e) || (s3e.statusCode() != 400 && s3e.statusCode() != 501)) {
            return false;
        }
        String code = s3e.awsErrorDetails() == null ? "" : String.valueOf(s3e.awsErrorDetails().errorCode());
        if (MISMATCH.contains(code)) {
            return false;
        }
        String words = (code + " " + e.getMessage()).toLowerCase(Locale.ROOT);
        return s3e.statusCode() == 501 || CHECKSUM_WORDS.matcher(words).find();
    }

    private void refuseChecksums(String what) {
        if (checksums.getAndSet(ChecksumSupport.REFUSED) != ChecksumSupport.REFUSED) {
            LOG.warn("{} {}: the relay sends it no checksum from now on and hashes the bytes itself for the"
                    + " receipt; set relay.target.s3.checksum=none to say so up front", locate(""),
                    secrets.redact(what));
        }
    }

    /**
     * Owns {@code first} (a full part): uploads it and the rest of {@code content} as parts, or aborts. Parts
     * upload in parallel while the next is read, as many as the buffer pool allows.
     */
    private void multipart(String objectKey, ByteBuffer first, InputStream content, byte[] chunk,
                           String contentType) throws IOException {
        String uploadId;
        boolean checksum = sendsChecksum();
        try {
            uploadId = s3.createMultipartUpload(CreateMultipartUploadRequest.builder().bucket(settings.bucket())
                    .key(objectKey).contentType(contentType)
                    .serverSideEncryption(settings.sse()).ssekmsKeyId(settings.kmsKeyId())
                    .storageClass(settings.storageClass())
                    .checksumAlgorithm(checksum ? ChecksumAlgorithm.SHA256 : null).build()).uploadId();
        } catch (SdkException e) {
            buffers.release(first);
            throw uploadFailure(objectKey, e, checksum);
        }
        List<Future<CompletedPart>> uploads = new ArrayList<>();
        uploads.add(uploadPart(objectKey, uploadId, 1, first, first.capacity(), checksum));
        ByteBuffer next = null;
        boolean complete = false;
        try {
            while (true) {
                failFast(uploads);
                next = buffers.take(); // waits while every buffer is being uploaded
                int n = readPart(content, next, chunk);
                if (n == 0) {
                    break;
                }
                if (uploads.size() == MAX_PARTS) {
                    throw new IOException("File too large for " + MAX_PARTS + " parts of "
                            + settings.partSize() + " bytes: raise relay.target.s3.part-size");
                }
                ByteBuffer part = next;
                next = null;
                uploads.add(uploadPart(objectKey, uploadId, uploads.size() + 1, part, n, checksum));
                if (n < part.capacity()) {
                    break;
                }
            }
            List<CompletedPart> parts = new ArrayList<>(uploads.size());
            for (Future<CompletedPart> upload : uploads) {
                parts.add(await(upload));
            }
            s3.completeMultipartUpload(r -> r.bucket(settings.bucket()).key(objectKey).uploadId(uploadId)
                    .multipartUpload(u -> u.parts(parts)));
            complete = true;
            LOG.debug("{}: {} parts uploaded", locateObject(objectKey), parts.size());
        } catch (SdkException e) {
            throw uploadFailure(objectKey, e, checksum);
        } finally {
            buffers.release(next);
            if (!complete) {
                uploads.forEach(S3Target::finish);
                abort(objectKey, uploadId);
            }
        }
    }

    /** Stops reading the source as soon as a part upload has failed. */
    private void failFast(List<Future<CompletedPart>> uploads) throws IOException {
        // only the last few can still be running: the buffer pool bounds the uploads in flight
        for (int i = Math.max(0, uploads.size() - settings.partBuffers() - 1); i < uploads.size(); i++) {
            if (uploads.get(i).isDone()) {
                await(uploads.get(i));
            }
        }
    }

    private Future<CompletedPart> uploadPart(String objectKey, String uploadId, int number, ByteBuffer buffer,
                                             int length, boolean checksum) {
        return partUploads.submit(() -> {
            try {
                UploadPartRequest.Builder request = UploadPartRequest.builder().bucket(settings.bucket())
                        .key(objectKey).uploadId(uploadId).partNumber(number).contentLength((long) length);
                if (checksum) {
                    request.checksumAlgorithm(ChecksumAlgorithm.SHA256);
                }
                UploadPartResponse response = s3.uploadPart(request.build(),
                        body(buffer, length, "application/octet-stream"));
                return CompletedPart.builder().partNumber(number).eTag(response.eTag())
                        .checksumSHA256(response.checksumSHA256()).build();
            } finally {
                buffers.release(buffer);
            }
        });
    }

    private CompletedPart await(Future<CompletedPart> part) throws IOException {
        try {
            return part.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("Interrupted during an S3 part upload");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SdkException sdk) {
                throw sdk;
            }
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /** Waits for a part still uploading after a failure, so the abort comes after it and frees its parts. */
    private static void finish(Future<CompletedPart> part) {
        if (part == null) {
            return;
        }
        try {
            part.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            // the failure that matters is already being thrown
        }
    }

    private void abort(String objectKey, String uploadId) {
        try {
            s3.abortMultipartUpload(r -> r.bucket(settings.bucket()).key(objectKey).uploadId(uploadId));
            LOG.info("{}: multipart upload aborted after a failure; nothing was stored", locateObject(objectKey));
        } catch (SdkException e) {
            LOG.warn("{}: could not abort multipart upload {} ({}); its parts stay until a bucket lifecycle rule"
                    + " (AbortIncompleteMultipartUpload) removes them, the object itself was never visible",
                    locateObject(objectKey), uploadId, secrets.redact(e.getMessage()));
        }
    }

    /**
     * HeadBucket through both clients, so that neither meets the store for the first time (loading and resolving
     * most of the SDK, opening a connection) inside a delivery. A HEAD answer has no error code, so a 403 cannot
     * tell wrong credentials from ones that lack {@code s3:ListBucket} (which deliveries do not need): it says both.
     */
    @Override
    public String check() throws IOException {
        String bucket = "s3://" + settings.bucket() + (settings.endpoint() == null ? "" : " at " + settings.endpoint());
        for (S3Client client : List.of(s3, streaming)) {
            try {
                client.headBucket(r -> r.bucket(settings.bucket()));
            } catch (S3Exception e) {
                if (e.statusCode() == 404) {
                    throw new IOException("S3 bucket " + bucket + " does not exist (HeadBucket answered 404)");
                }
                if (e.statusCode() == 403) {
                    throw new IOException("S3 bucket " + bucket + " refused HeadBucket (403): the credentials are"
                            + " wrong, or they may not s3:ListBucket, which deliveries do not need (the first"
                            + " delivery will tell)");
                }
                throw secrets.failure("S3 check of " + bucket, e);
            } catch (SdkException e) {
                throw secrets.failure("S3 check of " + bucket, e);
            }
        }
        return "S3 bucket " + bucket + " answers";
    }

    @Override
    public boolean exists(String key) throws IOException {
        String objectKey = settings.objectKey(key);
        try {
            s3.headObject(r -> r.bucket(settings.bucket()).key(objectKey));
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw secrets.failure("S3 lookup of " + locateObject(objectKey), e);
        } catch (SdkException e) {
            throw secrets.failure("S3 lookup of " + locateObject(objectKey), e);
        }
    }

    @Override
    public String locate(String key) {
        return "s3://" + settings.bucket() + "/" + settings.objectKey(key);
    }

    private String locateObject(String objectKey) {
        return "s3://" + settings.bucket() + "/" + objectKey;
    }

    /** Reads until {@code buffer} is full or the stream ends (through {@code chunk}); returns the byte count. */
    private static int readPart(InputStream in, ByteBuffer buffer, byte[] chunk) throws IOException {
        while (buffer.hasRemaining()) {
            int r = in.read(chunk, 0, Math.min(chunk.length, buffer.remaining()));
            if (r < 0) {
                break;
            }
            buffer.put(chunk, 0, r);
        }
        return buffer.position();
    }

    /** The buffer as a body the SDK can re-read on a retry, without copying it. */
    private static RequestBody body(ByteBuffer buffer, int length, String contentType) {
        return RequestBody.fromContentProvider(() -> stream(buffer, length), length, contentType);
    }

    private static InputStream stream(ByteBuffer buffer, int length) {
        ByteBuffer view = buffer.duplicate().position(0).limit(length);
        return new InputStream() {
            @Override
            public int read() {
                return view.hasRemaining() ? view.get() & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (len == 0) {
                    return 0;
                }
                if (!view.hasRemaining()) {
                    return -1;
                }
                int n = Math.min(len, view.remaining());
                view.get(b, off, n);
                return n;
            }

            @Override
            public int available() {
                return view.remaining();
            }
        };
    }

    /**
     * The source's body held to its announced length: one that ends early or runs long fails the upload
     * (the store then keeps nothing) instead of storing a truncated or cut object.
     */
    static final class ExactLength extends FilterInputStream {
        private final long length;
        private long read;
        private boolean sourceEnded;
        private IOException failure;

        ExactLength(InputStream in, long length) {
            super(in);
            this.length = length;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return readExactly(b, off, len);
            } catch (IOException e) {
                failure = e;
                throw e;
            }
        }

        /** What went wrong reading the source (it ended early, ran long, or failed itself); null if nothing. */
        IOException failure() {
            return failure;
        }

        private int readExactly(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (read == length) {
                if (!sourceEnded) {
                    throw new IOException("The source sent more than the " + length + " bytes it announced");
                }
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, length - read));
            if (n < 0) {
                throw new IOException("The source ended after " + read + " of the " + length + " bytes it announced");
            }
            read += n;
            if (read == length) {
                // asked now, while the stream is open: the SDK closes it once it has sent the announced bytes
                sourceEnded = in.read() < 0;
            }
            return n;
        }

        /** True when every announced byte was read and the source had nothing more. */
        boolean atEnd() {
            return read == length && sourceEnded;
        }

        @Override
        public long skip(long n) {
            return 0;
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }
}
