package org.healthexport.relay.http;

import org.healthexport.relay.auth.AccessTokens;
import org.healthexport.relay.config.SourceConfig;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * Opens a source's files as streams. Written on the JDK client rather than camel-http because each hop needs
 * its own rules: the bearer token only to the source's origin and only when the manifest requires it, never on
 * a redirect (presigned storage rejects it), every redirect checked by {@link UrlPolicy}, gzip asked for and
 * decoded with a limit on the inflated size.
 */
public class SourceFiles {
    private volatile VendorRequestIds requestIds = VendorRequestIds.defaults();
    private static final int MAX_REDIRECTS = 5;
    private final HttpClient http;
    private final Duration timeout;
    private final long maxInflateRatio;
    private final java.util.Map<String, java.util.function.Supplier<java.util.Map<String, String>>> tokenHeaders =
            new java.util.concurrent.ConcurrentHashMap<>();

    public SourceFiles(HttpClient http, Duration timeout, long maxInflateRatio) {
        this.http = http;
        this.timeout = timeout;
        this.maxInflateRatio = maxInflateRatio;
    }

    /**
     * Lets a kind add its own headers to the requests that carry its source's token (eHealth's {@code api-key}):
     * they go where the token goes (the source's origin), never to a redirect target.
     */
    /** Which response headers name the server's request id of a failing file answer. */
    public SourceFiles requestIds(VendorRequestIds ids) {
        this.requestIds = ids;
        return this;
    }

    public void addTokenHeaders(String sourceId, java.util.function.Supplier<java.util.Map<String, String>> headers) {
        tokenHeaders.put(sourceId, headers);
    }

    /**
     * The file's bytes, decoded from gzip when the server compressed them, with their length when the server
     * said it and nothing was decoded. The caller closes the stream.
     */
    public Download open(SourceConfig source, URI url, boolean tokenRequired, AccessTokens tokens, String accept)
            throws IOException {
        UrlPolicy.checkFileUrl(source, url);
        boolean sameOrigin = source.origin() != null && source.origin().equals(SourceConfig.origin(url));
        boolean sendToken = tokenRequired && sameOrigin;
        var extra = sendToken ? tokenHeaders.get(source.id()) : null;
        HttpResponse<InputStream> response = send(url, sendToken ? tokens.current().orElse(null) : null, accept, extra);
        if (response.statusCode() == 401 && sendToken) {
            drain(response);
            tokens.invalidate();
            response = send(url, tokens.current().orElse(null), accept, extra);
        }
        URI current = url;
        for (int hop = 0; isRedirect(response.statusCode()); hop++) {
            String location = response.headers().firstValue("Location").orElse(null);
            drain(response);
            if (location == null || hop >= MAX_REDIRECTS) {
                throw new FileUnavailableException("Too many or empty redirects from " + safe(url), 502);
            }
            current = current.resolve(location);
            UrlPolicy.checkRedirect(source, current);
            response = send(current, null, accept, null);
        }
        int code = response.statusCode();
        if (code != 200) {
            drain(response);
            throw new FileUnavailableException("GET " + safe(current) + " answered " + code, code,
                    requestIds.from(response.headers()));
        }
        InputStream body = response.body();
        boolean gzip = response.headers().firstValue("Content-Encoding")
                .map(e -> e.toLowerCase(Locale.ROOT).contains("gzip")).orElse(false);
        if (!gzip && accept.contains("ndjson")) {
            // An NDJSON file stored gzipped and served as-is (a Redox "....ndjson.gz" URL, an object store without
            // Content-Encoding) starts with the gzip magic bytes, which no NDJSON line can: decoded all the same.
            java.io.PushbackInputStream peek = new java.io.PushbackInputStream(body, 2);
            byte[] magic = peek.readNBytes(2);
            peek.unread(magic);
            body = peek;
            gzip = magic.length == 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b;
        }
        if (!gzip) {
            return new Download(body, response.headers().firstValueAsLong("Content-Length").orElse(-1));
        }
        CountingInputStream compressed = new CountingInputStream(body);
        return new Download(new InflateLimit(new GZIPInputStream(compressed, 64 * 1024), compressed, maxInflateRatio,
                safe(url)), -1);
    }

    /** A file's body and its length in bytes, or -1 when unknown (chunked, or decoded from gzip). */
    public static final class Download extends FilterInputStream {
        private final long length;

        Download(InputStream in, long length) {
            super(in);
            this.length = length;
        }

        public long length() {
            return length;
        }
    }

    private HttpResponse<InputStream> send(URI url, String token, String accept,
                                           java.util.function.Supplier<java.util.Map<String, String>> extra)
            throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(timeout).GET()
                .header("Accept", accept).header("Accept-Encoding", "gzip");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (extra != null) {
            extra.get().forEach(request::header);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted while fetching " + safe(url), e);
        }
    }

    private static boolean isRedirect(int code) {
        return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
    }

    private static void drain(HttpResponse<InputStream> response) {
        try (InputStream in = response.body()) {
            in.skip(64 * 1024);
        } catch (IOException ignored) {
            // the connection is dropped instead of reused
        }
    }

    /** A URL for logs and errors: without its query, where presigned links carry their signature. */
    public static String safe(URI url) {
        return url.getScheme() + "://" + url.getRawAuthority() + (url.getRawPath() == null ? "" : url.getRawPath());
    }

    /** Refuses a gzip body that inflates beyond {@code ratio} times its compressed size (a gzip bomb). */
    static final class InflateLimit extends FilterInputStream {
        private static final long SLACK = 16L * 1024 * 1024;
        private final CountingInputStream compressed;
        private final long ratio;
        private final String url;
        private long inflated;

        InflateLimit(InputStream in, CountingInputStream compressed, long ratio, String url) {
            super(in);
            this.compressed = compressed;
            this.ratio = ratio;
            this.url = url;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            if (n > 0) {
                inflated += n;
                if (inflated > SLACK && inflated > compressed.count() * ratio) {
                    throw new IOException("Refused " + url + ": gzip inflates beyond " + ratio + "x its size");
                }
            }
            return n;
        }
    }
}
