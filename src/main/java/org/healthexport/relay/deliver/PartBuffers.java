package org.healthexport.relay.deliver;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed number of part-sized buffers shared by every upload of a target: the memory an S3 delivery uses is
 * {@code count × size}, however many files are delivered at once and however large they are. Buffers are made
 * on first need and reused after; a caller waits while all are in use. They are direct (off-heap) buffers:
 * long-lived 16 MiB arrays in a 128 MiB heap would keep the old generation above G1's marking threshold and
 * cost a concurrent GC cycle every few parts; off the heap they cost the GC nothing.
 */
final class PartBuffers {
    private final int size;
    private final int alignment;
    private final Semaphore permits;
    private final BlockingQueue<ByteBuffer> free;
    private final AtomicInteger allocated = new AtomicInteger();

    PartBuffers(int count, int size) {
        this(count, size, 1);
    }

    /** Buffers whose first byte sits at a multiple of {@code alignment} (direct I/O asks for it). */
    PartBuffers(int count, int size, int alignment) {
        this.size = size;
        this.alignment = alignment;
        this.permits = new Semaphore(count, true);
        this.free = new ArrayBlockingQueue<>(count);
    }

    int size() {
        return size;
    }

    ByteBuffer take() throws IOException {
        try {
            permits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("Interrupted while waiting for an upload buffer");
        }
        ByteBuffer buffer = free.poll();
        if (buffer == null) {
            allocated.incrementAndGet();
            buffer = alignment == 1 ? ByteBuffer.allocateDirect(size)
                    : ByteBuffer.allocateDirect(size + alignment).alignedSlice(alignment).limit(size).slice();
        }
        return buffer.clear();
    }

    /** How many buffers were made so far: never more than the count given. */
    int allocated() {
        return allocated.get();
    }

    /** Gives up a taken buffer that cannot be reused (another thread may still read it): a new one replaces it. */
    void discard() {
        allocated.decrementAndGet();
        permits.release();
    }

    void release(ByteBuffer buffer) {
        if (buffer != null) {
            free.offer(buffer);
            permits.release();
        }
    }
}
