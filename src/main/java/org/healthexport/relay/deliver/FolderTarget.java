package org.healthexport.relay.deliver;

import com.sun.nio.file.ExtendedOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Delivers into a local folder: written under a temporary name beside the final one ({@code .<name>.part}),
 * synced, then renamed, so a reader never sees a partial file under its final name.
 * <p>
 * Where the folder's file system allows it, files are written with direct I/O ({@code O_DIRECT}): the relay
 * never reads what it delivers, and each file is synced before its rename anyway, so the page cache would only
 * cost a second copy of every byte and the memory to hold it (on a 1 GiB file, most of the delivery's kernel
 * time, see docs/benchmarks.md). Elsewhere (tmpfs before Linux 6.6, some FUSE and network file systems) files
 * are written through the page cache and synced in stretches.
 */
public class FolderTarget implements DeliveryTarget {
    private static final Logger LOG = LoggerFactory.getLogger(FolderTarget.class);
    static final int WRITE_BYTES = 256 * 1024;
    static final int DIRECT_WRITE_BYTES = 1024 * 1024;
    static final int DIRECT_BUFFERS = 8;
    static final long SYNC_BYTES = 64L * 1024 * 1024;
    /** A file written anew, through the page cache or (the probe's and direct copies' way) around it. */
    private static final Set<OpenOption> WRITE_NEW = Set.of(StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
    private static final Set<OpenOption> WRITE_NEW_DIRECT = Set.of(StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
    private final Path root;
    private final long syncBytes;
    /** Each file synced before its rename (the default), or left to the page cache. */
    private final boolean sync;
    /** Aligned pairs of write buffers for direct I/O; null when the folder's file system has none. */
    private final PartBuffers directBuffers;
    private final int alignment;

    public FolderTarget(Path root) throws IOException {
        this(root, true);
    }

    /**
     * {@code sync = false} ({@code relay.target.file.sync}): files go through the page cache unsynced, as {@code cp}
     * or {@code curl} leave them; faster where the disk is slower than the source, but a power cut or a kernel crash
     * (not a crash of the relay) can lose files already recorded as delivered.
     */
    public FolderTarget(Path root, boolean sync) throws IOException {
        this(root, sync ? SYNC_BYTES : Long.MAX_VALUE, sync, sync);
        if (!sync) {
            LOG.warn("Folder target {}: files are not synced (relay.target.file.sync=false): a power cut can lose files"
                    + " already recorded as delivered", this.root);
        }
    }

    FolderTarget(Path root, long syncBytes, boolean directIo) throws IOException {
        this(root, syncBytes, directIo, true);
    }

    private FolderTarget(Path root, long syncBytes, boolean directIo, boolean sync) throws IOException {
        this.root = Files.createDirectories(root).toAbsolutePath().normalize();
        this.syncBytes = syncBytes;
        this.sync = sync;
        this.alignment = directIo ? directIoAlignment(this.root) : 0;
        this.directBuffers = alignment > 0 ? new PartBuffers(DIRECT_BUFFERS, 2 * DIRECT_WRITE_BYTES, alignment) : null;
    }

    /**
     * The block size direct writes must be aligned to in {@code dir}, or 0 when its file system refuses direct
     * I/O: found by writing one block to a probe file, since only an actual open and write tell.
     */
    static int directIoAlignment(Path dir) {
        Path probe = dir.resolve(".direct-io-probe");
        try {
            long block = Files.getFileStore(dir).getBlockSize();
            if (block <= 0 || block > DIRECT_WRITE_BYTES || DIRECT_WRITE_BYTES % block != 0) {
                return 0;
            }
            ByteBuffer one = ByteBuffer.allocateDirect((int) block * 2).alignedSlice((int) block).limit((int) block);
            try (FileChannel channel = FileChannel.open(probe, WRITE_NEW_DIRECT)) {
                channel.write(one);
            }
            return (int) block;
        } catch (IOException | UnsupportedOperationException e) {
            LOG.info("Folder target {}: no direct I/O there ({}), files are written through the page cache",
                    dir, e.getMessage());
            return 0;
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException ignored) {
                // a probe left behind is harmless: a dot file no key can name
            }
        }
    }

    /** Whether files here are written with direct I/O. */
    boolean directIo() {
        return directBuffers != null;
    }

    /** Whether each file is synced before its rename. */
    boolean syncs() {
        return sync;
    }

    @Override
    public String kind() {
        return "file";
    }

    @Override
    public void put(String key, InputStream content, long length, String contentType) throws IOException {
        Path target = resolve(key);
        // looked at first: createDirectories on a folder that exists (every file of a job but the first) tries
        // mkdir and builds and catches an exception, a few per cent of the CPU a small file costs the relay
        if (!Files.isDirectory(target.getParent())) {
            Files.createDirectories(target.getParent());
        }
        // One temporary name per key: a delivery repeated after a crash truncates the half-written copy it left.
        Path temp = target.resolveSibling("." + target.getFileName() + ".part");
        try {
            boolean direct = directBuffers != null;
            try (FileChannel channel = FileChannel.open(temp, direct ? WRITE_NEW_DIRECT : WRITE_NEW)) {
                if (direct) {
                    copyDirect(content, channel);
                } else {
                    copy(content, channel);
                }
                if (sync) {
                    channel.force(true);
                }
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * Copies in whole {@value #WRITE_BYTES}-byte writes: page-aligned writes spare the kernel zeroing the rest of
     * each new page that a short write (transferTo's, whatever size each read returned) leaves, and most of the
     * syscalls. Every {@value #SYNC_BYTES} bytes (by default), what was written so far is synced on another
     * thread while the copy goes on, so the sync before the rename has only the last stretch left to write (the
     * JDK has no sync_file_range). Measured on a 1 GiB file, see docs/benchmarks.md.
     */
    private void copy(InputStream content, FileChannel channel) throws IOException {
        byte[] buffer = new byte[WRITE_BYTES];
        ByteBuffer wrapped = ByteBuffer.wrap(buffer);
        ExecutorService syncer = null; // made for the first sync, ended with the copy
        Future<?> sync = CompletableFuture.completedFuture(null);
        long unsynced = 0;
        try {
            for (int n = content.readNBytes(buffer, 0, WRITE_BYTES); n > 0;
                 n = content.readNBytes(buffer, 0, WRITE_BYTES)) {
                writeWhole(channel, wrapped.clear().limit(n));
                unsynced += n;
                if (unsynced >= syncBytes && sync.isDone()) {
                    await(sync);
                    if (syncer == null) {
                        syncer = Executors.newSingleThreadExecutor(r -> new Thread(r, "folder-sync"));
                    }
                    sync = syncer.submit(() -> {
                        channel.force(false);
                        return null;
                    });
                    unsynced = 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            settle(sync, e);
            throw e;
        } finally {
            if (syncer != null) {
                syncer.shutdown(); // ends its thread once the last sync is done
            }
        }
        await(sync);
    }

    /**
     * Copies with direct I/O: whole aligned blocks of {@value #DIRECT_WRITE_BYTES} bytes, written on another
     * thread from one half of a buffer pair while the download fills the other half (a direct write returns only
     * once the device has the bytes, so in line it would stall the download for as long). The last block is
     * padded with zeros to the alignment, then the file is cut back to its true length. A file that fits in one
     * block is written on the caller's thread, with no writer made for it.
     */
    private void copyDirect(InputStream content, FileChannel channel) throws IOException {
        byte[] bytes = new byte[WRITE_BYTES]; // DIRECT_WRITE_BYTES is a multiple: a read always fits in a half
        ByteBuffer pair = directBuffers.take(); // both halves at once: no two copies each wait for a second buffer
        ByteBuffer filling = pair.duplicate().limit(DIRECT_WRITE_BYTES).slice();
        ByteBuffer other = pair.duplicate().position(DIRECT_WRITE_BYTES).slice();
        ExecutorService writer = null; // made for the first whole block, ended with the copy
        Future<?> written = CompletableFuture.completedFuture(null);
        try {
            long length = 0;
            for (int n = content.readNBytes(bytes, 0, bytes.length); n > 0; n = content.readNBytes(bytes, 0, bytes.length)) {
                filling.put(bytes, 0, n);
                length += n;
                if (!filling.hasRemaining()) {
                    await(written);
                    if (writer == null) {
                        writer = Executors.newSingleThreadExecutor(r -> new Thread(r, "folder-write"));
                    }
                    ByteBuffer full = filling.flip();
                    written = writer.submit(() -> {
                        writeWhole(channel, full);
                        return null;
                    });
                    filling = other.clear();
                    other = full;
                }
            }
            await(written);
            int tail = filling.position();
            if (tail > 0) {
                int padded = (tail + alignment - 1) / alignment * alignment;
                filling.put(new byte[padded - tail]);
                writeWhole(channel, filling.flip());
                channel.truncate(length);
            }
        } catch (IOException | RuntimeException e) {
            settle(written, e);
            throw e;
        } finally {
            if (writer != null) {
                writer.shutdown();
            }
            if (written.isDone()) {
                directBuffers.release(pair);
            } else {
                directBuffers.discard(); // interrupted while a write still reads the pair: never handed to another copy
            }
        }
    }

    private static void writeWhole(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /**
     * Lets a sync or write still running on the file end before the copy's failure is told: the file is deleted
     * anyway, and the copy's own failure is the one to tell (the other's is added to it).
     */
    private static void settle(Future<?> pending, Exception failure) {
        try {
            await(pending);
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    private static void await(Future<?> sync) throws IOException {
        try {
            sync.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("Interrupted while syncing");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    @Override
    public String check() throws IOException {
        if (!Files.isDirectory(root) || !Files.isWritable(root)) {
            throw new IOException("Folder " + root + " is not a writable directory");
        }
        return "folder " + root + " is a writable directory";
    }

    @Override
    public boolean exists(String key) {
        return Files.exists(resolve(key));
    }

    @Override
    public String locate(String key) {
        return resolve(key).toString();
    }

    public Path root() {
        return root;
    }

    private Path resolve(String key) {
        Path p = root.resolve(key).normalize();
        if (!p.startsWith(root) || p.equals(root)) {
            throw new IllegalArgumentException("Key escapes the delivery folder: " + key);
        }
        return p;
    }
}
