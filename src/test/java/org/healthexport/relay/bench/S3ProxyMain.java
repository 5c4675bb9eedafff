package org.healthexport.relay.bench;

import org.healthexport.relay.deliver.S3ProxyServer;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * S3Proxy outside JUnit, for {@code bench/deliver-1gib-s3.sh}: a filesystem store in {@code <dir>}, no
 * authorisation, bucket {@code <bucket>} created, the port written to {@code <dir>/port}; stops by itself
 * after {@code <seconds>} so a benchmark can never leave it running.
 * Args: {@code <dir> <bucket> <seconds>}.
 */
public final class S3ProxyMain {
    private S3ProxyMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Path data = Files.createDirectories(dir.resolve("data"));
        S3ProxyServer server = S3ProxyServer.start("filesystem", data, false, 0);
        server.createBucket(args[1]);
        Files.writeString(dir.resolve("port.tmp"), String.valueOf(server.port()));
        Files.move(dir.resolve("port.tmp"), dir.resolve("port"));
        System.out.println("S3Proxy listening at " + server.endpoint() + ", bucket " + args[1]);
        Thread.sleep(Long.parseLong(args[2]) * 1000);
        server.stop();
        System.exit(0);
    }
}
