package org.healthexport.relay.http;

import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.ClientTlsStrategyBuilder;
import org.apache.hc.client5.http.ssl.NoopHostnameVerifier;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.util.Timeout;
import org.healthexport.relay.auth.AccessTokens;
import org.healthexport.relay.config.SourceConfig;

import java.io.PushbackInputStream;
import javax.net.ssl.SSLContext;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.zip.GZIPInputStream;

/**
 * Opens a source's files as streams. Written on Apache HttpClient 5 (camel-http's client) rather than on a
 * camel-http endpoint because each hop needs its own rules: the bearer token only to the source's origin and
 * only when the manifest requires it, never on a redirect (presigned storage rejects it), every redirect checked
 * by {@link UrlPolicy}, gzip asked for and decoded with a limit on the inflated size. Its classic (blocking) API
 * reads the socket straight into the caller's buffer: against the JDK's HttpClient, whose body passes through
 * a queue of freshly allocated buffers on another thread, a 1 GiB file costs a sixth of the CPU (see
 * docs/benchmarks.md).
 */
public class SourceFiles implements AutoCloseable {
    private static final int MAX_REDIRECTS = 5;
    /** An error or redirect answer's body up to this size is read to keep its connection; a larger one drops it. */
    private static final long DRAIN_BYTES = 64 * 1024;
    private volatile VendorRequestIds requestIds = VendorRequestIds.defaults();
    private final CloseableHttpClient http;
    private final long maxInflateRatio;
    private final Map<String, Supplier<Map<String, String>>> tokenHeaders = new ConcurrentHashMap<>();

    public SourceFiles(CloseableHttpClient http, long maxInflateRatio) {
        this.http = http;
        this.maxInflateRatio = maxInflateRatio;
    }

    /**
     * The pooled client for files: no redirects followed (each is checked here), no automatic retries (the
     * relay's own backoff decides), no cookies, no transparent decompression (decoded here, with a limit), and
     * {@code readTimeout} both for the answer to come and for any silence within a body.
     */
    public static CloseableHttpClient client(SSLContext tls, boolean checkHostNames, Duration connectTimeout,
                                             Duration readTimeout, int maxConnectionsPerHost) {
        ClientTlsStrategyBuilder strategy = ClientTlsStrategyBuilder.create().setSslContext(tls);
        if (!checkHostNames) {
            strategy.setHostnameVerifier(NoopHostnameVerifier.INSTANCE);
        }
        Timeout read = Timeout.of(readTimeout);
        return HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setTlsSocketStrategy(strategy.buildClassic())
                        .setMaxConnPerRoute(maxConnectionsPerHost)
                        .setMaxConnTotal(maxConnectionsPerHost * 4)
                        .setDefaultConnectionConfig(ConnectionConfig.custom()
                                .setConnectTimeout(Timeout.of(connectTimeout)).setSocketTimeout(read).build())
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(read).build())
                .disableRedirectHandling()
                .disableAutomaticRetries()
                .disableCookieManagement()
                .disableContentCompression()
                .disableAuthCaching()
                .build();
    }

    /** Which response headers name the server's request id of a failing file answer. */
    public SourceFiles requestIds(VendorRequestIds ids) {
        this.requestIds = ids;
        return this;
    }

    /**
     * Lets a kind add its own headers to the requests that carry its source's token (eHealth's {@code api-key}):
     * they go where the token goes (the source's origin), never to a redirect target.
     */
    public void addTokenHeaders(String sourceId, Supplier<Map<String, String>> headers) {
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
        Answer answer = send(url, sendToken ? tokens.current().orElse(null) : null, accept, extra);
        if (answer.code() == 401 && sendToken) {
            answer.discard();
            tokens.invalidate();
            answer = send(url, tokens.current().orElse(null), accept, extra);
        }
        URI current = url;
        boolean tokenSent = sendToken;
        for (int hop = 0; isRedirect(answer.code()); hop++) {
            String location = answer.header("Location");
            answer.discard();
            if (location == null || hop >= MAX_REDIRECTS) {
                throw new FileUnavailableException("Too many or empty redirects from " + safe(url), 502);
            }
            try {
                current = current.resolve(location);
            } catch (IllegalArgumentException e) {
                // not quoted: the JDK's message holds the whole link, a presigned one's signature included
                throw new FileUnavailableException("Redirect from " + safe(current) + " to a Location that is not a"
                        + " URL", 502);
            }
            UrlPolicy.checkRedirect(source, current);
            answer = send(current, null, accept, null);
            tokenSent = false;
        }
        int code = answer.code();
        if (code != 200) {
            String requestId = requestIds.from(answer::header);
            answer.discard();
            throw new FileUnavailableException("GET " + safe(current) + " answered " + code, code, requestId,
                    tokenSent);
        }
        try {
            return download(answer, accept, url);
        } catch (IOException | RuntimeException e) {
            answer.discard(); // a leased connection not handed back would be lost to the pool for good
            throw e;
        }
    }

    private Download download(Answer answer, String accept, URI url) throws IOException {
        InputStream body = answer.body();
        String encoding = answer.header("Content-Encoding");
        boolean gzip = encoding != null && encoding.toLowerCase(Locale.ROOT).contains("gzip");
        if (!gzip && accept.contains("ndjson")) {
            // An NDJSON file stored gzipped and served as-is (a Redox "....ndjson.gz" URL, an object store without
            // Content-Encoding) starts with the gzip magic bytes, which no NDJSON line can: decoded all the same.
            PushbackInputStream peek = new PushbackInputStream(body, 2);
            byte[] magic = peek.readNBytes(2);
            peek.unread(magic);
            body = peek;
            gzip = magic.length == 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b;
        }
        if (!gzip) {
            return new Download(body, answer, answer.length());
        }
        CountingInputStream compressed = new CountingInputStream(body);
        return new Download(new InflateLimit(new GZIPInputStream(compressed, 64 * 1024), compressed, maxInflateRatio,
                safe(url)), answer, -1);
    }

    @Override
    public void close() throws IOException {
        http.close();
    }

    /**
     * A file's body and its length in bytes, or -1 when unknown (chunked, or decoded from gzip). Closed before
     * its end (a refused line, a failed target), it drops its connection rather than read the rest of the file.
     */
    public static final class Download extends FilterInputStream {
        private final Answer answer;
        private final long length;
        private long read;
        private boolean ended;

        Download(InputStream in, Answer answer, long length) {
            super(in);
            this.answer = answer;
            this.length = length;
        }

        public long length() {
            return length;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            count(b < 0 ? -1 : 1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            count(n);
            return n;
        }

        private void count(int n) {
            if (n < 0) {
                ended = true;
            } else {
                read += n;
                ended |= length >= 0 && read >= length;
            }
        }

        @Override
        public void close() throws IOException {
            if (ended) {
                super.close(); // at the end of the body: the connection goes back to the pool
                return;
            }
            answer.discard();
            try {
                super.close();
            } catch (IOException ignored) {
                // the connection is already cut: nothing of the file is wanted any more
            }
        }
    }

    /** One answer of the file host: its status and headers, its body, and its connection to hand back or drop. */
    private record Answer(HttpGet request, ClassicHttpResponse response) {
        int code() {
            return response.getCode();
        }

        String header(String name) {
            Header h = response.getFirstHeader(name);
            return h == null ? null : h.getValue();
        }

        long length() {
            HttpEntity entity = response.getEntity();
            return entity == null || entity.getContentEncoding() != null ? -1 : entity.getContentLength();
        }

        InputStream body() throws IOException {
            HttpEntity entity = response.getEntity();
            return entity == null ? InputStream.nullInputStream() : entity.getContent();
        }

        /**
         * Ends the answer without its body: a short one (a redirect's, an error page) is read so its connection
         * serves the next request, a long or unknown one is cut with its connection.
         */
        void discard() {
            HttpEntity entity = response.getEntity();
            long size = entity == null ? 0 : entity.getContentLength();
            try {
                if (size < 0 || size > DRAIN_BYTES) {
                    request.cancel();
                } else {
                    EntityUtils.consume(entity); // hands the connection back to the pool
                }
            } catch (IOException ignored) {
                // the connection is dropped instead of reused
            } finally {
                try {
                    response.close();
                } catch (IOException ignored) {
                    // already dropped
                }
            }
        }
    }

    private Answer send(URI url, String token, String accept, Supplier<Map<String, String>> extra)
            throws IOException {
        HttpGet request = new HttpGet(url);
        request.setHeader("Accept", accept);
        request.setHeader("Accept-Encoding", "gzip");
        if (token != null) {
            request.setHeader("Authorization", "Bearer " + token);
        }
        if (extra != null) {
            extra.get().forEach(request::setHeader);
        }
        return new Answer(request, http.executeOpen(null, request, null));
    }

    private static boolean isRedirect(int code) {
        return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
    }

    /**
     * A URL for logs and errors: without its query, where presigned links carry their signature, and without any
     * user info before its host.
     */
    public static String safe(URI url) {
        String authority = url.getRawAuthority();
        if (authority != null && authority.contains("@")) {
            authority = authority.substring(authority.lastIndexOf('@') + 1);
        }
        return url.getScheme() + "://" + authority + (url.getRawPath() == null ? "" : url.getRawPath());
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
