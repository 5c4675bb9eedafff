package org.healthexport.relay.deliver;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Delivers into a local folder: written under a temporary name beside the final one ({@code .<name>.part}),
 * synced, then renamed, so a reader never sees a partial file under its final name.
 */
public class FolderTarget implements DeliveryTarget {
    static final int WRITE_BYTES = 256 * 1024;
    static final long SYNC_BYTES = 64L * 1024 * 1024;
    private final Path root;
    private final long syncBytes;

    public FolderTarget(Path root) throws IOException {
        this(root, SYNC_BYTES);
    }

    FolderTarget(Path root, long syncBytes) throws IOException {
        this.root = Files.createDirectories(root).toAbsolutePath().normalize();
        this.syncBytes = syncBytes;
    }

    @Override
    public String kind() {
        return "file";
    }

    @Override
    public void put(String key, InputStream content, long length, String contentType) throws IOException {
        Path target = resolve(key);
        Files.createDirectories(target.getParent());
        // One temporary name per key: a delivery repeated after a crash truncates the half-written copy it left.
        Path temp = target.resolveSibling("." + target.getFileName() + ".part");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                copy(content, channel);
                channel.force(true);
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
                wrapped.clear().limit(n);
                while (wrapped.hasRemaining()) {
                    channel.write(wrapped);
                }
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
            try {
                await(sync); // the file is deleted anyway; the copy's own failure is the one to tell
            } catch (IOException syncFailure) {
                e.addSuppressed(syncFailure);
            }
            throw e;
        } finally {
            if (syncer != null) {
                syncer.shutdown(); // ends its thread once the last sync is done
            }
        }
        await(sync);
    }

    private static void await(Future<?> sync) throws IOException {
        try {
            sync.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("Interrupted while syncing");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
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
