package org.healthexport.relay.job;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain TCP proxy between the relay and its database that can do to the relay what a database restart does:
 * every open connection cut at once, new connections refused (the port closed) for a while, then accepted
 * again on the same port. The relay's JDBC driver and pool are the real ones; only the wire is interrupted.
 */
public final class DatabaseProxy implements AutoCloseable {
    private final InetSocketAddress upstream;
    private final int port;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();
    private ServerSocket server;

    public DatabaseProxy(String upstreamHost, int upstreamPort) throws IOException {
        this.upstream = new InetSocketAddress(upstreamHost, upstreamPort);
        ServerSocket first = bind(0);
        this.port = first.getLocalPort();
        listen(first);
    }

    /** A proxy in front of the PostgreSQL server the tests use ({@link TestDatabases#postgresBaseUrl}). */
    public static DatabaseProxy toTestPostgres() throws IOException {
        URI pg = testPostgres();
        return new DatabaseProxy(pg.getHost(), pg.getPort());
    }

    /** {@code directUrl}, a JDBC URL of the tests' PostgreSQL server, through this proxy. */
    public String through(String directUrl) {
        URI pg = testPostgres();
        return directUrl.replace(pg.getHost() + ":" + pg.getPort(), "127.0.0.1:" + port);
    }

    /**
     * A small pool on {@code directUrl} through this proxy that gives up on a connection after a second, so that a
     * step during an outage fails as it would against a database that is down, instead of waiting for it.
     */
    public HikariDataSource pool(String directUrl, int size) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(through(directUrl));
        config.setMaximumPoolSize(size);
        config.setConnectionTimeout(1000);
        return new HikariDataSource(config);
    }

    private static URI testPostgres() {
        return URI.create(TestDatabases.postgresBaseUrl().substring("jdbc:".length()));
    }

    public int port() {
        return port;
    }

    /** Connections accepted so far (the pool reconnecting shows here). */
    public int connectionsAccepted() {
        return connections.get();
    }

    public int openConnections() {
        return open.size() / 2;
    }

    /** Closes the listening port and every open connection, as a stopping database does. */
    public synchronized void cutAndRefuse() throws IOException {
        if (server != null) {
            server.close();
            server = null;
        }
        for (Socket s : open) {
            closeQuietly(s);
        }
        open.clear();
    }

    /** Listens again on the same port, as the restarted database does. */
    public synchronized void accept() throws IOException {
        if (server == null) {
            // the cut connections still hold the port for a moment while they close
            for (int attempt = 1; ; attempt++) {
                try {
                    listen(bind(port));
                    return;
                } catch (BindException busy) {
                    if (attempt == 100) {
                        throw busy;
                    }
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw busy;
                    }
                }
            }
        }
    }

    /** A database restart: everything cut, refused for {@code down}, then accepted again. */
    public void restart(Duration down) throws IOException, InterruptedException {
        cutAndRefuse();
        Thread.sleep(down.toMillis());
        accept();
    }

    @Override
    public void close() throws IOException {
        cutAndRefuse();
    }

    private static ServerSocket bind(int port) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true); // the restarted "database" takes its port back at once
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 100);
        return s;
    }

    private void listen(ServerSocket s) {
        server = s;
        Thread acceptor = new Thread(() -> {
            while (!s.isClosed()) {
                try {
                    connect(s.accept());
                } catch (IOException closed) {
                    return;
                }
            }
        }, "database-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void connect(Socket client) {
        Socket database = new Socket();
        try {
            database.connect(upstream, 5000);
        } catch (IOException e) {
            closeQuietly(client);
            closeQuietly(database);
            return;
        }
        synchronized (this) {
            if (server == null) { // cut while this connection was being opened
                closeQuietly(client);
                closeQuietly(database);
                return;
            }
            open.add(client);
            open.add(database);
        }
        connections.incrementAndGet();
        pump(client, database);
        pump(database, client);
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException ignored) {
                // cut: the other direction ends too
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
            }
        }, "database-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
