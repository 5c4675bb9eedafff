package org.healthexport.relay.http;

import com.sun.net.httpserver.HttpServer;
import org.healthexport.relay.auth.AccessTokens;
import org.healthexport.relay.config.SourceConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;
import javax.net.ssl.SSLContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** File downloads against a real local HTTP server: token rules, redirects, gzip, gzip bombs, raw bytes. */
class SourceFilesTest {
    HttpServer server;
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    final SourceFiles files = new SourceFiles(SourceFiles.client(defaultTls(), true, Duration.ofSeconds(10),
            Duration.ofSeconds(10), 4), 100);
    static final byte[] INVALID_UTF8 = {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, (byte) 0xFF, '"', '}', '\n'};

    static SSLContext defaultTls() {
        try {
            return SSLContext.getDefault();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    final List<Integer> clientPorts = new CopyOnWriteArrayList<>();
    final CompletableFuture<String> largeSent = new CompletableFuture<>();
    final CountDownLatch stopped = new CountDownLatch(1);
    final ExecutorService handlers = Executors.newCachedThreadPool();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
        server.setExecutor(handlers);
        server.createContext("/", ex -> {
            authorizations.add(ex.getRequestURI().getPath() + " " + ex.getRequestHeaders().getFirst("Authorization"));
            clientPorts.add(ex.getRemoteAddress().getPort());
            String path = ex.getRequestURI().getPath();
            byte[] body = INVALID_UTF8;
            switch (path) {
                case "/fhir/large.ndjson" -> { // 1 GiB, and whether all of it left the server
                    byte[] chunk = new byte[64 * 1024];
                    Arrays.fill(chunk, (byte) 'x');
                    ex.sendResponseHeaders(200, 1L << 30);
                    try (OutputStream out = ex.getResponseBody()) {
                        for (int i = 0; i < (1 << 30) / chunk.length; i++) {
                            out.write(chunk);
                        }
                        largeSent.complete("all of it");
                    } catch (IOException e) {
                        largeSent.complete("cut: " + e.getMessage());
                    }
                    return;
                }
                case "/fhir/stalls.ndjson" -> { // headers and 10 bytes of 1,000, then silence
                    ex.sendResponseHeaders(200, 1000);
                    OutputStream out = ex.getResponseBody();
                    out.write(new byte[10]);
                    out.flush();
                    try {
                        stopped.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    ex.close();
                    return;
                }
                case "/fhir/raw.ndjson" -> {
                }
                case "/fhir/zipped.ndjson" -> {
                    body = gzip(INVALID_UTF8);
                    ex.getResponseHeaders().set("Content-Encoding", "gzip");
                }
                case "/fhir/not-gzip.ndjson" -> { // says gzip, is not
                    ex.getResponseHeaders().set("Content-Encoding", "gzip");
                }
                case "/fhir/bomb.ndjson" -> {
                    body = gzip(new byte[64 * 1024 * 1024]);
                    ex.getResponseHeaders().set("Content-Encoding", "gzip");
                }
                case "/fhir/moved" -> {
                    ex.getResponseHeaders().set("Location", "/fhir/raw.ndjson");
                    ex.sendResponseHeaders(307, -1);
                    ex.close();
                    return;
                }
                case "/fhir/to-file" -> {
                    ex.getResponseHeaders().set("Location", "file:///etc/passwd");
                    ex.sendResponseHeaders(302, -1);
                    ex.close();
                    return;
                }
                case "/fhir/to-a-broken-link" -> { // a presigned Location with a character no URL may hold
                    ex.getResponseHeaders().set("Location", "https://files.example/a b.ndjson?X-Amz-Signature=s3cret");
                    ex.sendResponseHeaders(302, -1);
                    ex.close();
                    return;
                }
                case "/fhir/forbidden" -> {
                    ex.sendResponseHeaders(403, -1);
                    ex.close();
                    return;
                }
                case "/fhir/gone" -> {
                    ex.sendResponseHeaders(410, -1);
                    ex.close();
                    return;
                }
                default -> {
                    ex.sendResponseHeaders(404, -1);
                    ex.close();
                    return;
                }
            }
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        stopped.countDown();
        server.stop(0);
        handlers.shutdownNow();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    SourceConfig source() {
        return UrlPolicyTest.source("http://127.0.0.1:" + server.getAddress().getPort() + "/fhir", null);
    }

    URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    byte[] fetch(String path, boolean tokenRequired) throws IOException {
        try (InputStream in = files.open(source(), url(path), tokenRequired, AccessTokens.fixed("tok-123"), "application/fhir+ndjson")) {
            return in.readAllBytes();
        }
    }

    @Test
    void invalidUtf8PassesThroughByteExactPlainOrGzipped() throws IOException {
        assertThat(fetch("/fhir/raw.ndjson", false)).isEqualTo(INVALID_UTF8);
        assertThat(fetch("/fhir/zipped.ndjson", false)).isEqualTo(INVALID_UTF8);
    }

    @Test
    void theTokenGoesOnlyWhereRequiredAndNeverOnARedirect() throws IOException {
        fetch("/fhir/raw.ndjson", false);
        fetch("/fhir/moved", true);
        assertThat(authorizations).containsExactly("/fhir/raw.ndjson null", "/fhir/moved Bearer tok-123",
                "/fhir/raw.ndjson null");
    }

    @Test
    void aGzipBombIsRefused() {
        assertThatThrownBy(() -> fetch("/fhir/bomb.ndjson", false)).isInstanceOf(IOException.class)
                .hasMessageContaining("gzip inflates beyond");
    }

    @Test
    void redirectsToOtherSchemesAreRefused() {
        assertThatThrownBy(() -> fetch("/fhir/to-file", false)).isInstanceOf(UrlPolicy.RefusedUrlException.class);
    }

    @Test
    void aRedirectToALinkThatIsNotAUrlFailsWithoutQuotingIt() {
        assertThatThrownBy(() -> fetch("/fhir/to-a-broken-link", false)).isInstanceOf(FileUnavailableException.class)
                .hasMessageContaining("not a URL").hasMessageNotContaining("s3cret").hasMessageNotContaining("files.example");
    }

    @Test
    void aUrlInAnErrorKeepsNeitherItsQueryNorItsUserInfo() {
        assertThat(SourceFiles.safe(URI.create("https://user:pw@files.example:8443/a/b.ndjson?X-Amz-Signature=s")))
                .isEqualTo("https://files.example:8443/a/b.ndjson");
        assertThat(SourceFiles.safe(URI.create("https://files.example/a"))).isEqualTo("https://files.example/a");
    }

    /**
     * A 403 to the source's own token is a refusal a fresh manifest would not change; a 403 from a link that
     * carries its own capability (no token sent) is that capability past its life.
     */
    @Test
    void aForbiddenFileIsARefusalWithTheTokenAndAnExpiredLinkWithout() {
        assertThatThrownBy(() -> fetch("/fhir/forbidden", true)).isInstanceOfSatisfying(FileUnavailableException.class,
                e -> assertThat(e.isRefusedToTheToken()).isTrue());
        assertThatThrownBy(() -> fetch("/fhir/forbidden", true)).isInstanceOfSatisfying(FileUnavailableException.class,
                e -> assertThat(e.isExpiredLink()).isFalse());
        assertThatThrownBy(() -> fetch("/fhir/forbidden", false)).isInstanceOfSatisfying(FileUnavailableException.class,
                e -> assertThat(e.isExpiredLink()).isTrue());
    }

    @Test
    void aGoneFileSaysSo() {
        assertThatThrownBy(() -> fetch("/fhir/gone", false)).isInstanceOfSatisfying(FileUnavailableException.class,
                e -> assertThat(e.isExpiredLink()).isTrue());
    }

    @Test
    void filesOnAnotherPortOfTheSameHostAreRefused() {
        assertThatThrownBy(() -> files.open(source(), URI.create("http://127.0.0.1:1/fhir/raw.ndjson"), true,
                AccessTokens.fixed("tok-123"), "application/fhir+ndjson")).isInstanceOf(UrlPolicy.RefusedUrlException.class);
        assertThat(authorizations).isEmpty();
    }

    @Test
    void filesReadToTheirEndShareOneConnection() throws IOException {
        fetch("/fhir/raw.ndjson", false);
        fetch("/fhir/zipped.ndjson", false);
        fetch("/fhir/raw.ndjson", false);
        assertThat(clientPorts).hasSize(3);
        assertThat(Set.copyOf(clientPorts)).hasSize(1);
    }

    /** A refused line or a failed target closes the file early: its connection is cut, the rest is not read. */
    @Test
    void aFileClosedBeforeItsEndIsNotReadToItsEnd() throws Exception {
        try (SourceFiles.Download in = files.open(source(), url("/fhir/large.ndjson"), false, AccessTokens.NONE,
                "application/fhir+ndjson")) {
            assertThat(in.length()).isEqualTo(1L << 30);
            assertThat(in.readNBytes(1024)).hasSize(1024);
        }
        assertThat(largeSent.get(30, TimeUnit.SECONDS)).startsWith("cut");
    }

    /** The read timeout also bounds a silence within a body, not only the wait for the answer. */
    @Test
    void aBodyThatFallsSilentFailsAtTheReadTimeout() {
        SourceFiles quick = new SourceFiles(SourceFiles.client(defaultTls(), true, Duration.ofSeconds(10),
                Duration.ofMillis(500), 4), 100);
        assertThatThrownBy(() -> {
            try (InputStream in = quick.open(source(), url("/fhir/stalls.ndjson"), false, AccessTokens.NONE,
                    "application/fhir+ndjson")) {
                in.readAllBytes();
            }
        }).isInstanceOf(SocketTimeoutException.class);
    }

    /** A body that fails as it is opened (gzip that is not) gives its connection up: the pool of 4 never runs dry. */
    @Test
    void filesThatFailAsTheyOpenLeaveThePoolWhole() {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (int i = 0; i < 10; i++) {
                assertThatThrownBy(() -> fetch("/fhir/not-gzip.ndjson", false)).isInstanceOf(ZipException.class);
            }
            assertThat(fetch("/fhir/raw.ndjson", false)).isEqualTo(INVALID_UTF8);
        });
    }
}
