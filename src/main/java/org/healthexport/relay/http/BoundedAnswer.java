package org.healthexport.relay.http;

import org.apache.camel.Exchange;
import org.healthexport.relay.config.RelayProperties;

import java.io.IOException;
import java.io.InputStream;

/**
 * Route step right after a call to a source on camel-http (kick-off, status poll, DELETE): the answer's body is
 * read into memory up to {@code relay.http.max-status-bytes} and refused beyond, as a malformed answer. The
 * endpoints hand over the raw stream ({@code disableStreamCache=true}): otherwise camel-http copies the whole
 * answer into the heap before any step sees it, however large it is.
 */
public final class BoundedAnswer {
    public static final long DEFAULT_MAX_BYTES = 16L * 1024 * 1024;
    private final long maxBytes;

    public BoundedAnswer(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** {@code relay.http.max-status-bytes}: the bound of every answer body read from a source, manifests included. */
    public static long maxBytes(RelayProperties props) {
        return props.getLong("relay.http.max-status-bytes", DEFAULT_MAX_BYTES, 1);
    }

    public void read(Exchange exchange) throws IOException {
        Object body = exchange.getMessage().getBody();
        if (!(body instanceof InputStream stream)) {
            return; // no body, or one camel-http already read (at most its streaming threshold)
        }
        try (InputStream in = BoundedBody.limit(stream, maxBytes, "answer body")) {
            exchange.getMessage().setBody(in.readAllBytes());
        } catch (BoundedBody.TooLargeException tooLarge) {
            throw new MalformedAnswerException(tooLarge.getMessage() + " (relay.http.max-status-bytes)");
        }
    }
}
