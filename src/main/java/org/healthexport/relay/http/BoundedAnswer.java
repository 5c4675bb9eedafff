package org.healthexport.relay.http;

import org.apache.camel.Exchange;

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
    /**
     * What a first read asks for. This runs at every poll, and most answers (an empty 202, a status of a few hundred
     * bytes) are short: readAllBytes would start with an 8 KiB buffer for each.
     */
    static final int FIRST_READ = 512;
    private final long maxBytes;

    public BoundedAnswer(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    public void read(Exchange exchange) throws IOException {
        Object body = exchange.getMessage().getBody();
        if (!(body instanceof InputStream stream)) {
            return; // no body, or one camel-http already read (at most its streaming threshold)
        }
        try (InputStream in = BoundedBody.limit(stream, maxBytes, "answer body")) {
            exchange.getMessage().setBody(readWhole(in));
        } catch (BoundedBody.TooLargeException tooLarge) {
            throw new MalformedAnswerException(tooLarge.getMessage() + " (relay.http.max-status-bytes)");
        }
    }

    static byte[] readWhole(InputStream in) throws IOException {
        byte[] head = in.readNBytes(FIRST_READ);
        if (head.length < FIRST_READ) {
            return head;
        }
        byte[] rest = in.readAllBytes();
        if (rest.length == 0) {
            return head;
        }
        byte[] whole = java.util.Arrays.copyOf(head, head.length + rest.length);
        System.arraycopy(rest, 0, whole, head.length, rest.length);
        return whole;
    }
}
