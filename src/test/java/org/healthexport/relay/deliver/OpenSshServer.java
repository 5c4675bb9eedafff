package org.healthexport.relay.deliver;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * OpenSSH's own {@code sshd} (the server most SFTP targets run, not ours), started privately for a test on
 * 127.0.0.1 and a free port, from a config of its own in {@code dir}: an ed25519 host key, public key login for
 * the user running the tests, OpenSSH's internal SFTP server. Key pairs are made with {@code ssh-keygen}.
 * Needs the Debian packages openssh-server and openssh-client ({@code .ci/run} installs them).
 */
final class OpenSshServer implements AutoCloseable {
    static final Path SSHD = Path.of("/usr/sbin/sshd");
    static final Path SSH_KEYGEN = Path.of("/usr/bin/ssh-keygen");

    private final Path dir;
    private final int port;
    private final Process sshd;

    private OpenSshServer(Path dir, int port, Process sshd) {
        this.dir = dir;
        this.port = port;
        this.sshd = sshd;
    }

    static boolean installed() {
        return Files.isExecutable(SSHD) && Files.isExecutable(SSH_KEYGEN);
    }

    static OpenSshServer start(Path dir) throws IOException, InterruptedException {
        Path hostKey = newKeyPair(dir.resolve("host_ed25519"));
        Path clientKey = newKeyPair(dir.resolve("client_ed25519"));
        Files.copy(Path.of(clientKey + ".pub"), dir.resolve("authorized_keys"));
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path config = Files.writeString(dir.resolve("sshd_config"), String.join("\n",
                "Port " + port,
                "ListenAddress 127.0.0.1",
                "HostKey " + hostKey,
                "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
                "StrictModes no", // the test's temporary folder is not the user's ~/.ssh
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "PidFile " + dir.resolve("sshd.pid"),
                "Subsystem sftp internal-sftp",
                ""));
        if ("root".equals(System.getProperty("user.name"))) {
            Files.createDirectories(Path.of("/run/sshd")); // its privilege separation folder; /run may be fresh
        }
        Process sshd = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("sshd.log").toFile()).start();
        OpenSshServer server = new OpenSshServer(dir, port, sshd);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!server.listening()) {
            if (!sshd.isAlive() || System.nanoTime() > until) {
                server.close();
                throw new IOException("sshd did not start: " + Files.readString(dir.resolve("sshd.log")));
            }
            Thread.sleep(50);
        }
        return server;
    }

    /** A new ed25519 key pair without a passphrase: {@code path} and {@code path.pub}. */
    static Path newKeyPair(Path path) throws IOException, InterruptedException {
        Process keygen = new ProcessBuilder(SSH_KEYGEN.toString(), "-q", "-t", "ed25519", "-N", "", "-C", "relay-test",
                "-f", path.toString()).redirectErrorStream(true).start();
        String out = new String(keygen.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (keygen.waitFor() != 0) {
            throw new IOException("ssh-keygen failed: " + out);
        }
        return path;
    }

    private boolean listening() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    int port() {
        return port;
    }

    String user() {
        return System.getProperty("user.name");
    }

    Path clientKey() {
        return dir.resolve("client_ed25519");
    }

    /** The server's host key as a known_hosts line, as {@code ssh-keyscan} would print it. */
    String knownHostsLine() throws IOException {
        List<String> fields = List.of(Files.readString(dir.resolve("host_ed25519.pub")).trim().split(" "));
        return "[127.0.0.1]:" + port + " " + fields.get(0) + " " + fields.get(1);
    }

    @Override
    public void close() throws InterruptedException {
        sshd.destroy();
        if (!sshd.waitFor(10, TimeUnit.SECONDS)) {
            sshd.destroyForcibly();
        }
    }
}
