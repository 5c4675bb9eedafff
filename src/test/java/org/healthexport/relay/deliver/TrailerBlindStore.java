package org.healthexport.relay.deliver;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * An S3-compatible store that does not know flexible checksums, as some do not: a real HTTP server in front of
 * an (unauthenticated) S3Proxy that either refuses any upload carrying a checksum (a {@code x-amz-checksum-*}
 * header or a {@code x-amz-trailer}) with 501 NotImplemented, or ignores the {@code aws-chunked} encoding of a
 * streamed upload and passes the chunk-framed body on as the object's bytes. Every other request goes through
 * unchanged ({@link Mode#KNOWS_CHECKSUMS}: every request, S3Proxy decoding the trailer). Records whether each
 * upload (PUT) carried a checksum. Methods named in {@link #denied} are answered 403 AccessDenied, as to credentials
 * allowed to write but not to read ({@code HEAD}) or remove ({@code DELETE}).
 */
final class TrailerBlindStore implements AutoCloseable {
    enum Mode { REFUSES, STORES_FRAMING, KNOWS_CHECKSUMS }

    private static final Set<String> NOT_FORWARDED = Set.of("host", "content-length", "connection", "expect",
            "upgrade", "transfer-encoding");
    private final HttpServer server;
    private final HttpClient client = HttpClient.newHttpClient();
    private final URI behind;
    private final Mode mode;
    final List<Boolean> uploadsWithChecksum = new CopyOnWriteArrayList<>();
    final Set<String> denied = ConcurrentHashMap.newKeySet();

    TrailerBlindStore(URI behind, Mode mode) throws IOException {
        this.behind = behind;
        this.mode = mode;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/", this::handle);
        server.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            boolean trailer = exchange.getRequestHeaders().containsKey("x-amz-trailer");
            boolean checksum = trailer || exchange.getRequestHeaders().keySet().stream()
                    .anyMatch(h -> h.toLowerCase(Locale.ROOT).startsWith("x-amz-checksum-"));
            if (exchange.getRequestMethod().equals("PUT")) {
                uploadsWithChecksum.add(checksum);
            }
            if (checksum && mode == Mode.REFUSES) {
                answerError(exchange, 501, "NotImplemented",
                        "A header you provided implies functionality that is not implemented");
                return;
            }
            if (denied.contains(exchange.getRequestMethod())) {
                answerError(exchange, 403, "AccessDenied", "Access Denied");
                return;
            }
            boolean unframes = trailer && mode == Mode.STORES_FRAMING;
            HttpRequest.Builder forward = HttpRequest.newBuilder(behind.resolve(exchange.getRequestURI().toString()));
            for (Map.Entry<String, List<String>> header : exchange.getRequestHeaders().entrySet()) {
                String name = header.getKey().toLowerCase(Locale.ROOT);
                boolean framing = unframes && (name.equals("content-encoding") || name.equals("x-amz-trailer")
                        || name.equals("x-amz-decoded-content-length") || name.equals("x-amz-content-sha256"));
                if (!NOT_FORWARDED.contains(name) && !framing) {
                    header.getValue().forEach(v -> forward.header(header.getKey(), v));
                }
            }
            if (unframes) {
                forward.header("x-amz-content-sha256", "UNSIGNED-PAYLOAD"); // the framing is now "the bytes"
            }
            byte[] body = exchange.getRequestBody().readAllBytes();
            forward.method(exchange.getRequestMethod(), body.length == 0 && !exchange.getRequestMethod().equals("PUT")
                    ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            HttpResponse<InputStream> answer = client.send(forward.build(), HttpResponse.BodyHandlers.ofInputStream());
            answer.headers().map().forEach((name, values) -> {
                if (!NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT)) && !name.startsWith(":")) {
                    values.forEach(v -> exchange.getResponseHeaders().add(name, v));
                }
            });
            byte[] answerBody;
            try (InputStream in = answer.body()) {
                answerBody = in.readAllBytes();
            }
            boolean head = exchange.getRequestMethod().equals("HEAD");
            if (head) {
                // a HEAD answer keeps the object's Content-Length, with no body
                answer.headers().firstValue("content-length")
                        .ifPresent(length -> exchange.getResponseHeaders().set("Content-Length", length));
                exchange.sendResponseHeaders(answer.statusCode(), -1);
                return;
            }
            exchange.sendResponseHeaders(answer.statusCode(), answerBody.length == 0 ? -1 : answerBody.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answerBody);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static void answerError(HttpExchange exchange, int status, String code, String message) throws IOException {
        byte[] error = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>"
                + message + "</Message></Error>").getBytes(StandardCharsets.UTF_8);
        exchange.getRequestBody().readAllBytes();
        exchange.getResponseHeaders().add("Content-Type", "application/xml");
        exchange.sendResponseHeaders(status, error.length);
        exchange.getResponseBody().write(error);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
