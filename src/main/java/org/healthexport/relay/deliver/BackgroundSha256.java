package org.healthexport.relay.deliver;

import org.healthexport.relay.job.Hashes;

import java.io.InterruptedIOException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * The SHA-256 of a byte stream, computed on another thread: the download's own thread only copies its bytes
 * into a few chunk buffers, so hashing (a third of a delivery's CPU at a few hundred MB/s) runs beside the
 * download and the write instead of in line with them. Memory is bounded: at most {@link #BUFFERS} chunks of
 * {@link #CHUNK} bytes per stream, made only as the stream needs them; a full pipe makes the reader wait.
 * One instance per stream; {@link #close()} always, {@link #hex()} once at the end.
 */
final class BackgroundSha256 implements AutoCloseable {
    static final int CHUNK = 256 * 1024;
    static final int BUFFERS = 4;
    private static final Chunk END = new Chunk(null, -1);
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BUFFERS);
    private final BlockingQueue<Chunk> filled = new ArrayBlockingQueue<>(BUFFERS + 1);
    private final Future<byte[]> digest;
    private int made;
    private byte[] current;
    private int position;
    private boolean ended;

    private record Chunk(byte[] data, int length) {
    }

    BackgroundSha256(ExecutorService hashers) {
        digest = hashers.submit(() -> {
            MessageDigest sha256 = Hashes.sha256();
            for (Chunk c = filled.take(); c != END; c = filled.take()) {
                sha256.update(c.data, 0, c.length);
                free.put(c.data);
            }
            return sha256.digest();
        });
    }

    void update(byte[] bytes, int off, int len) throws InterruptedIOException {
        while (len > 0) {
            if (current == null) {
                current = nextBuffer();
            }
            int n = Math.min(len, CHUNK - position);
            System.arraycopy(bytes, off, current, position, n);
            position += n;
            off += n;
            len -= n;
            if (position == CHUNK) {
                hand(new Chunk(current, position));
            }
        }
    }

    /** The digest of every byte given, in hex. */
    String hex() throws InterruptedIOException {
        if (position > 0) {
            hand(new Chunk(current, position));
        }
        end();
        try {
            return HexFormat.of().formatHex(digest.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("Interrupted while hashing");
        } catch (ExecutionException e) {
            throw new IllegalStateException("SHA-256 failed", e.getCause());
        }
    }

    /** Ends the hashing thread's work on this stream, whether or not {@link #hex()} was asked. */
    @Override
    public void close() throws InterruptedIOException {
        end();
    }

    private void end() throws InterruptedIOException {
        if (!ended) {
            ended = true;
            put(END);
        }
    }

    private byte[] nextBuffer() throws InterruptedIOException {
        byte[] buffer = free.poll();
        if (buffer != null) {
            return buffer;
        }
        if (made < BUFFERS) {
            made++;
            return new byte[CHUNK];
        }
        try {
            return free.take(); // every chunk is being hashed: wait for one
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("Interrupted while hashing");
        }
    }

    private void hand(Chunk chunk) throws InterruptedIOException {
        put(chunk);
        current = null;
        position = 0;
    }

    private void put(Chunk chunk) throws InterruptedIOException {
        try {
            filled.put(chunk);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("Interrupted while hashing");
        }
    }
}
