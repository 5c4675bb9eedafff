package org.healthexport.relay.bench;

import org.healthexport.relay.deliver.SftpServer;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The SFTP server of the tests (Apache MINA SSHD) outside JUnit, for {@code bench/deliver-1gib-sftp.sh}: serves
 * {@code <dir>/data} as its root, writes what a client needs into {@code <dir>}: {@code known_hosts} (the host
 * key line), {@code user}, {@code password}, and last {@code port} (a script waits for that file); stops by itself
 * after {@code <seconds>} so a benchmark can never leave it running.
 * Args: {@code <dir> <seconds>}.
 */
public final class SftpMain {
    private SftpMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Path data = Files.createDirectories(dir.resolve("data"));
        SftpServer server = SftpServer.start(data);
        Files.writeString(dir.resolve("known_hosts"), server.knownHostsLine() + "\n");
        Files.writeString(dir.resolve("user"), SftpServer.USER);
        Files.writeString(dir.resolve("password"), SftpServer.PASSWORD);
        // the port last, written whole: its presence means everything above is in place
        Files.writeString(dir.resolve("port.tmp"), String.valueOf(server.port()));
        Files.move(dir.resolve("port.tmp"), dir.resolve("port"));
        System.out.println("SFTP server (MINA SSHD) listening at 127.0.0.1:" + server.port() + ", root " + data);
        Thread.sleep(Long.parseLong(args[1]) * 1000);
        server.stop();
        System.exit(0);
    }
}
