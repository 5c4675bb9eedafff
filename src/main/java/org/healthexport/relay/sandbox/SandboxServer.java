package org.healthexport.relay.sandbox;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.apache.camel.support.service.ServiceSupport;
import org.healthexport.relay.sandbox.ScriptedFaults.Aim;
import org.healthexport.relay.sandbox.ScriptedFaults.Fault;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Instant;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A real HTTP server (the JDK's; HTTPS when given a TLS context) that a vendor sandbox runs on: it records every
 * request so tests can check what the relay sent where, and stops with the Camel context.
 */
public abstract class SandboxServer extends ServiceSupport {
    private final String host;
    private final int requestedPort;
    private final Queue<RecordedRequest> requests = new ConcurrentLinkedQueue<>(); // appended per request, read rarely
    private HttpServer server;
    private ExecutorService executor;
    private volatile boolean recording = true;
    private SSLContext tls;
    private final AtomicLong requestIds = new AtomicLong();
    private ScriptedFaults faults = new ScriptedFaults();
    /**
     * Exchanges whose answer is cut after half its body (a {@link Fault#cutMidway()}). Not an exchange attribute:
     * the JDK server keeps those per context, so they would be shared by every later request.
     */
    private static final Set<HttpExchange> CUT = ConcurrentHashMap.newKeySet();

    static {
        // the JDK server writes an answer's headers and body in two sends: with Nagle's algorithm on, the body waited
        // for the client's delayed ACK, about 40 ms per answer. Read once, when the JDK's server first loads.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    protected SandboxServer(String host, int port) {
        this.host = host;
        this.requestedPort = port;
    }

    /** What the relay sent: enough to check methods, paths, which requests carried a token, and when. */
    public record RecordedRequest(Instant at, String method, String path, String query, String authorization,
                                  String accept, String prefer, String body, String requestId) {
        public boolean hasAuthorization() {
            return authorization != null;
        }
    }

    /** Serves HTTPS with this context instead of HTTP (tests of the relay's certificate checks); before start. */
    public SandboxServer tls(SSLContext context) {
        this.tls = context;
        return this;
    }

    /** A server-side TLS context from a key store holding the sandbox's key and certificate. */
    public static SSLContext serverTls(Path keyStore, String password, String type) {
        try (InputStream in = Files.newInputStream(keyStore)) {
            KeyStore store = KeyStore.getInstance(type);
            store.load(in, password == null ? null : password.toCharArray());
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, password == null ? null : password.toCharArray());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("Sandbox key store " + keyStore + " unusable: " + e.getMessage(), e);
        }
    }

    @Override
    protected void doStart() throws IOException {
        if (tls != null) {
            HttpsServer https = HttpsServer.create(new InetSocketAddress(host, requestedPort), 200);
            https.setHttpsConfigurator(new HttpsConfigurator(tls));
            server = https;
        } else {
            server = HttpServer.create(new InetSocketAddress(host, requestedPort), 200);
        }
        executor = Executors.newFixedThreadPool(16, r -> {
            Thread t = new Thread(r, getClass().getSimpleName());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::dispatch);
        server.start();
    }

    @Override
    protected void doStop() {
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String baseUrl() {
        return (tls != null ? "https://" : "http://") + host + ":" + port();
    }

    /** The faults tests queue for this sandbox's requests (shared with its companion servers, if any). */
    public ScriptedFaults faults() {
        return faults;
    }

    /** A companion server (e.g. "presigned" storage) takes its faults from this sandbox's queue. */
    protected <S extends SandboxServer> S sharingFaults(S companion) {
        ((SandboxServer) companion).faults = faults;
        return companion;
    }

    /** Which kind of request this is, for {@link ScriptedFaults}; null: no scripted fault applies to it. */
    protected Aim aim(HttpExchange exchange) {
        return null;
    }

    public List<RecordedRequest> requests() {
        return List.copyOf(requests);
    }

    public void clearRequests() {
        requests.clear();
    }

    /**
     * Stops (or resumes) recording requests, here and in the scripted faults' notes: a benchmark's hundreds of
     * thousands of polls are not kept.
     */
    public void recordRequests(boolean on) {
        this.recording = on;
        faults.noting(on);
    }

    private void dispatch(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readNBytes(1024 * 1024);
            String text = new String(body, StandardCharsets.UTF_8);
            var h = exchange.getRequestHeaders();
            // every answer names itself, as most vendors' do (a sandbox may set its own header over it)
            String requestId = getClass().getSimpleName().toLowerCase() + "-" + requestIds.incrementAndGet();
            exchange.getResponseHeaders().set("X-Request-Id", requestId);
            if (recording) requests.add(new RecordedRequest(Instant.now(), exchange.getRequestMethod(),
                    exchange.getRequestURI().getPath(), exchange.getRequestURI().getRawQuery(),
                    h.getFirst("Authorization"), h.getFirst("Accept"), h.getFirst("Prefer"), text, requestId));
            try {
                Aim aim = aim(exchange);
                Fault fault = aim == null ? null : faults.take(aim, exchange.getRequestURI().getPath(), requestId);
                if (fault != null && scripted(exchange, fault)) {
                    return;
                }
                handle(exchange, text);
            } catch (RuntimeException | IOException e) {
                send(exchange, 500, "text/plain", ("sandbox error: " + e).getBytes(StandardCharsets.UTF_8));
            } finally {
                CUT.remove(exchange);
            }
        }
    }

    /** Applies a scripted fault; true when it answered the request itself. */
    private static boolean scripted(HttpExchange exchange, Fault fault) throws IOException {
        if (!fault.delay().isZero()) {
            try {
                Thread.sleep(fault.delay().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        if (fault.cut()) {
            CUT.add(exchange);
        }
        if (fault.code() <= 0) {
            return false;
        }
        fault.headers().forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
        send(exchange, fault.code(), fault.contentType(), fault.body());
        return true;
    }

    /**
     * A cut answer: the whole length announced, half the body sent, then the connection dropped (the exception
     * makes the JDK server close it without completing the response).
     */
    private static boolean cutHere(HttpExchange exchange, int code, long length) {
        return code == 200 && length > 1 && CUT.remove(exchange);
    }

    protected abstract void handle(HttpExchange exchange, String body) throws IOException;

    protected static void send(HttpExchange exchange, int code, String contentType, byte[] body) throws IOException {
        if (contentType != null) {
            exchange.getResponseHeaders().set("Content-Type", contentType);
        }
        exchange.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
        if (cutHere(exchange, code, body.length)) {
            OutputStream out = exchange.getResponseBody();
            out.write(body, 0, body.length / 2);
            out.flush();
            throw new IOException("connection cut on purpose");
        }
        if (body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    protected static void sendJson(HttpExchange exchange, int code, String json) throws IOException {
        send(exchange, code, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    protected static void stream(HttpExchange exchange, String contentType, InputStream content) throws IOException {
        stream(exchange, contentType, content, 0);
    }

    /** {@code length}: the Content-Length to announce, as a file server does; 0 when unknown (chunked). */
    protected static void stream(HttpExchange exchange, String contentType, InputStream content, long length)
            throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(200, length);
        if (cutHere(exchange, 200, length)) {
            OutputStream out = exchange.getResponseBody();
            try (content) {
                out.write(content.readNBytes((int) Math.min(length / 2, 1 << 20)));
            }
            out.flush();
            throw new IOException("connection cut on purpose");
        }
        try (OutputStream out = exchange.getResponseBody(); content) {
            // in 256 KiB writes, not transferTo's 8 KiB: each write is a send of its own, and a 1 GiB file in 8 KiB
            // sends cost the sandbox (which shares the machine with the relay it serves) a system call per 8 KiB
            byte[] buffer = new byte[256 * 1024];
            for (int n; (n = content.readNBytes(buffer, 0, buffer.length)) > 0; ) {
                out.write(buffer, 0, n);
            }
        }
    }
}
