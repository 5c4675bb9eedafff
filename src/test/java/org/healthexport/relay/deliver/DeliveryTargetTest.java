package org.healthexport.relay.deliver;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link DeliveryTarget#putMeasured}: the bytes are hashed once, by the target when it says it hashes as it
 * stores, else as they are read. The targets here keep what they read in memory; the real ones are covered
 * against their servers (S3TargetTest, FolderTargetTest).
 */
class DeliveryTargetTest {
    private static final byte[] BYTES = "{\"resourceType\":\"Patient\"}\n".repeat(1000).getBytes(StandardCharsets.UTF_8);

    @Test
    void aTargetThatHashesIsTakenAtItsWordAndTheBytesAreNotHashedAgain() throws Exception {
        Recording target = new Recording(Optional.of("sha-from-the-target"));

        DeliveryTarget.Stored stored = target.putMeasured("k", new ByteArrayInputStream(BYTES), BYTES.length, "x");

        assertThat(stored).isEqualTo(new DeliveryTarget.Stored(BYTES.length, "sha-from-the-target"));
        assertThat(target.digestOn).isFalse();
        assertThat(target.read).isEqualTo(BYTES);
    }

    @Test
    void otherwiseTheBytesAreHashedAsTheTargetReadsThem() throws Exception {
        Recording target = new Recording(Optional.empty());
        target.hashes = false;

        DeliveryTarget.Stored stored = target.putMeasured("k", new ByteArrayInputStream(BYTES), BYTES.length, "x");

        assertThat(stored).isEqualTo(new DeliveryTarget.Stored(BYTES.length,
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(BYTES))));
        assertThat(target.digestOn).isTrue();
    }

    @Test
    void aTargetThatSaysItHashesButAnswersNothingIsAnError() {
        Recording target = new Recording(Optional.empty());

        assertThatThrownBy(() -> target.putMeasured("k", new ByteArrayInputStream(BYTES), BYTES.length, "x"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("answered no SHA-256");
    }

    /**
     * Reads the whole content, one byte then blocks (both read paths count), notes whether the caller's digest
     * saw the bytes, and answers {@code sent}.
     */
    private static final class Recording implements DeliveryTarget {
        private final Optional<String> sent;
        boolean hashes = true;
        boolean digestOn;
        byte[] read;

        Recording(Optional<String> sent) {
            this.sent = sent;
        }

        @Override
        public String check() {
            return "memory";
        }

        @Override
        public String kind() {
            return "memory";
        }

        @Override
        public boolean hashesWhilePutting(long length) {
            return hashes;
        }

        @Override
        public Optional<String> putHashed(String key, InputStream content, long length, String contentType)
                throws IOException {
            int first = content.read();
            byte[] rest = content.readAllBytes();
            read = new byte[rest.length + 1];
            read[0] = (byte) first;
            System.arraycopy(rest, 0, read, 1, rest.length);
            try {
                // a copy, so the caller's digest is left as it is: hashed nothing when the digest was off
                MessageDigest sofar = (MessageDigest) ((DigestInputStream) content).getMessageDigest().clone();
                digestOn = !MessageDigest.isEqual(sofar.digest(), MessageDigest.getInstance("SHA-256").digest());
            } catch (CloneNotSupportedException | NoSuchAlgorithmException e) {
                throw new IOException(e);
            }
            return sent;
        }

        @Override
        public void put(String key, InputStream content, long length, String contentType) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean exists(String key) {
            return false;
        }

        @Override
        public String locate(String key) {
            return key;
        }
    }
}
