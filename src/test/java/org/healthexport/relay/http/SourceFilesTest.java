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
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** File downloads against a real local HTTP server: token rules, redirects, gzip, gzip bombs, raw bytes. */
class SourceFilesTest {
    HttpServer server;
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    final SourceFiles files = new SourceFiles(HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build(),
            Duration.ofSeconds(10), 100);
    static final byte[] INVALID_UTF8 = {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, (byte) 0xFF, '"', '}', '\n'};

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
        server.createContext("/", ex -> {
            authorizations.add(ex.getRequestURI().getPath() + " " + ex.getRequestHeaders().getFirst("Authorization"));
            String path = ex.getRequestURI().getPath();
            byte[] body = INVALID_UTF8;
            switch (path) {
                case "/fhir/raw.ndjson" -> {
                }
                case "/fhir/zipped.ndjson" -> {
                    body = gzip(INVALID_UTF8);
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
        server.stop(0);
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
}
