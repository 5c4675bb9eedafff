package org.healthexport.relay.deliver;

import org.healthexport.relay.http.CountingInputStream;
import org.healthexport.relay.job.Hashes;

import java.io.IOException;
import java.io.InputStream;
import java.security.DigestInputStream;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Where delivered files land: a folder, an S3 bucket, an SFTP server. Every target gives the same guarantee:
 * nothing is visible under {@code key} until all its bytes are, and writing the same key again replaces it,
 * so a delivery repeated after a crash leaves one complete copy.
 */
public interface DeliveryTarget {

    /** {@code file}, {@code s3}, {@code sftp}: for receipts, logs and metrics. */
    String kind();

    /**
     * Streams {@code content} to {@code key} (relative, '/'-separated, already sanitised by {@link KeyLayout}).
     * {@code length} is the byte count when known, else -1. Memory use must not grow with the content.
     */
    void put(String key, InputStream content, long length, String contentType) throws IOException;

    /**
     * True when {@link #putHashed} of a file of this length answers the SHA-256 of what it stored, computed on
     * the way (S3's streamed PutObject sends one as the object's checksum): the relay then does not hash the bytes
     * a second time.
     */
    default boolean hashesWhilePutting(long length) {
        return false;
    }

    /** {@link #put}, then the SHA-256 (hex) of the stored bytes if this target computed it, else empty. */
    default Optional<String> putHashed(String key, InputStream content, long length, String contentType)
            throws IOException {
        put(key, content, length, contentType);
        return Optional.empty();
    }

    /**
     * {@link #putHashed}, counting the bytes it read and hashing them here unless this target hashes them itself,
     * for callers that deliver a local file or buffer (a spool) rather than a source download.
     */
    default Stored putMeasured(String key, InputStream content, long length, String contentType)
            throws IOException {
        boolean hashedHere = !hashesWhilePutting(length);
        CountingInputStream counted = new CountingInputStream(content);
        DigestInputStream in = new DigestInputStream(counted, Hashes.sha256());
        in.on(hashedHere);
        Optional<String> sent = putHashed(key, in, length, contentType);
        if (sent.isPresent()) {
            return new Stored(counted.count(), sent.get());
        }
        if (!hashedHere) {
            throw new IllegalStateException(kind() + " target said it hashes a put of " + length
                    + " bytes but answered no SHA-256");
        }
        return new Stored(counted.count(), HexFormat.of().formatHex(in.getMessageDigest().digest()));
    }

    /** What a put stored: the bytes read from its content and their SHA-256 (hex). */
    record Stored(long bytes, String sha256) {
    }

    /**
     * Asks the target, without writing to it, whether it can take deliveries now: the folder is a writable
     * directory, the bucket answers, the SFTP server takes the login. Answers what was found, for the log; throws
     * with the reason when the target cannot be confirmed. The relay runs on either way: deliveries retry until
     * the target answers.
     */
    String check() throws IOException;

    /** True when an object is stored under {@code key}. */
    boolean exists(String key) throws IOException;

    /** Where {@code key} is, for a person: a path, an s3:// or sftp:// URL. */
    String locate(String key);
}
