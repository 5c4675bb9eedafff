package org.healthexport.relay.deliver;

import org.healthexport.relay.job.Hashes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadPoolExecutor;

import static org.assertj.core.api.Assertions.assertThat;

class BackgroundSha256Test {
    private static final ExecutorService HASHERS = Executors.newCachedThreadPool();

    @AfterAll
    static void stop() {
        HASHERS.shutdownNow();
    }

    @Test
    void digestEqualsTheJdkDigestWhateverTheWritePattern() throws Exception {
        Random random = new Random(7);
        for (int size : new int[] {0, 1, BackgroundSha256.CHUNK - 1, BackgroundSha256.CHUNK,
                BackgroundSha256.CHUNK * BackgroundSha256.BUFFERS * 3 + 12_345}) {
            byte[] data = new byte[size];
            random.nextBytes(data);
            try (BackgroundSha256 sha = new BackgroundSha256(HASHERS)) {
                for (int off = 0; off < size; ) {
                    int n = Math.min(size - off, 1 + random.nextInt(100_000));
                    sha.update(data, off, n);
                    off += n;
                }
                assertThat(sha.hex()).as("%d bytes", size)
                        .isEqualTo(HexFormat.of().formatHex(Hashes.sha256().digest(data)));
            }
        }
    }

    @Test
    void theCallersBufferCanBeReusedAtOnce() throws Exception {
        byte[] buffer = new byte[8192];
        var expected = Hashes.sha256();
        try (BackgroundSha256 sha = new BackgroundSha256(HASHERS)) {
            for (int i = 0; i < 500; i++) {
                Arrays.fill(buffer, (byte) i); // overwritten right after each update, as a read loop does
                sha.update(buffer, 0, buffer.length);
                expected.update(buffer);
            }
            assertThat(sha.hex()).isEqualTo(HexFormat.of().formatHex(expected.digest()));
        }
    }

    @Test
    void closingWithoutADigestFreesTheHashingThread() throws Exception {
        ThreadPoolExecutor one = (ThreadPoolExecutor) Executors.newFixedThreadPool(1);
        try {
            try (BackgroundSha256 abandoned = new BackgroundSha256(one)) {
                abandoned.update(new byte[BackgroundSha256.CHUNK * 2], 0, BackgroundSha256.CHUNK * 2);
            }
            // the single thread is free again: a second stream on it completes
            try (BackgroundSha256 next = new BackgroundSha256(one)) {
                next.update(new byte[] {1, 2, 3}, 0, 3);
                assertThat(next.hex()).isEqualTo(HexFormat.of().formatHex(Hashes.sha256().digest(new byte[] {1, 2, 3})));
            }
        } finally {
            one.shutdownNow();
        }
    }
}
