package org.healthexport.relay.deliver;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Delivers into a local folder: written under a temporary name beside the final one ({@code .<name>.part}),
 * synced, then renamed, so a reader never sees a partial file under its final name.
 */
public class FolderTarget implements DeliveryTarget {
    static final int WRITE_BYTES = 256 * 1024;
    private final Path root;

    public FolderTarget(Path root) throws IOException {
        this.root = Files.createDirectories(root).toAbsolutePath().normalize();
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
            try (OutputStream out = Files.newOutputStream(temp, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                copy(content, out);
            }
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
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
     * syscalls. Measured on a 1 GiB file, see docs/benchmarks.md.
     */
    private static void copy(InputStream content, OutputStream out) throws IOException {
        byte[] buffer = new byte[WRITE_BYTES];
        for (int n = content.readNBytes(buffer, 0, WRITE_BYTES); n > 0; n = content.readNBytes(buffer, 0, WRITE_BYTES)) {
            out.write(buffer, 0, n);
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
