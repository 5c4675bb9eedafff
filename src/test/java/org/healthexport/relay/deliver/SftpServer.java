package org.healthexport.relay.deliver;

import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.sftp.server.FileHandle;
import org.apache.sshd.sftp.server.Handle;
import org.apache.sshd.sftp.server.SftpEventListener;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

import java.io.IOException;
import java.nio.file.CopyOption;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real SFTP server (Apache MINA SSHD) in this JVM on 127.0.0.1, serving {@code root}: password and public
 * key logins, a host key made for the test, every file operation recorded ("open", "moved", "removed"), and
 * stop/restart on the same port for outage tests.
 */
public final class SftpServer implements AutoCloseable {
    public static final String USER = "relay";
    public static final String PASSWORD = "sftp-Pa55-w0rd!";
    private final Path root;
    private final KeyPair hostKey;
    private final List<String> events = new CopyOnWriteArrayList<>();
    private volatile PublicKey authorizedKey;
    private SshServer server;
    private int port;

    private SftpServer(Path root, KeyPair hostKey) {
        this.root = root;
        this.hostKey = hostKey;
    }

    public static SftpServer start(Path root) throws Exception {
        SftpServer s = new SftpServer(root, newKeyPair());
        s.restart();
        return s;
    }

    public static KeyPair newKeyPair() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        return generator.generateKeyPair();
    }

    public synchronized void restart() throws IOException {
        SshServer s = SshServer.setUpDefaultServer();
        s.setHost("127.0.0.1");
        s.setPort(port);
        // MINA leaves Nagle on: its small SFTP status replies then wait for the client's delayed ACK (~40 ms),
        // which stalls a client that waits for each reply (curl/libssh2: 1.3 MB/s in bench/deliver-1gib-sftp.sh)
        CoreModuleProperties.TCP_NODELAY.set(s, true);
        s.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
        s.setPasswordAuthenticator((user, password, session) -> USER.equals(user) && PASSWORD.equals(password));
        s.setPublickeyAuthenticator((user, key, session) -> USER.equals(user) && authorizedKey != null
                && KeyUtils.compareKeys(key, authorizedKey));
        SftpSubsystemFactory sftp = new SftpSubsystemFactory();
        sftp.addSftpEventListener(new Recorder());
        s.setSubsystemFactories(List.of(sftp));
        s.setFileSystemFactory(new VirtualFileSystemFactory(root));
        s.start();
        port = s.getPort();
        server = s;
    }

    public synchronized void stop() throws IOException {
        server.stop(true);
    }

    public void authorize(PublicKey key) {
        this.authorizedKey = key;
    }

    public int port() {
        return port;
    }

    public Path root() {
        return root;
    }

    /** The line a known_hosts file needs for this server. */
    public String knownHostsLine() {
        return "[127.0.0.1]:" + port + " " + PublicKeyEntry.toString(hostKey.getPublic());
    }

    /** What clients did, in order: "open /path", "moved /a -> /b", "removed /path". */
    public List<String> events() {
        return List.copyOf(events);
    }

    public void clearEvents() {
        events.clear();
    }

    @Override
    public void close() throws IOException {
        stop();
    }

    private final class Recorder implements SftpEventListener {
        @Override
        public void open(ServerSession session, String remoteHandle, Handle handle) {
            if (handle instanceof FileHandle) {
                events.add("open " + handle.getFile());
            }
        }

        @Override
        public void moved(ServerSession session, Path source, Path destination, Collection<CopyOption> opts,
                          Throwable thrown) {
            events.add("moved " + source + " -> " + destination + (thrown == null ? "" : " failed"));
        }

        @Override
        public void removed(ServerSession session, Path path, boolean isDirectory, Throwable thrown) {
            events.add("removed " + path + (thrown == null ? "" : " failed"));
        }
    }
}
