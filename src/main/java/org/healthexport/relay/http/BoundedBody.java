package org.healthexport.relay.http;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Caps how much of a response body is read: an oversized status body is refused, not buffered. */
public final class BoundedBody extends FilterInputStream {
    private final long max;
    private final String what;
    private long read;

    private BoundedBody(InputStream in, long max, String what) {
        super(in);
        this.max = max;
        this.what = what;
    }

    public static InputStream limit(InputStream in, long max, String what) {
        return new BoundedBody(in, max, what);
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            count(1);
        }
        return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        if (n > 0) {
            count(n);
        }
        return n;
    }

    private void count(int n) throws TooLargeException {
        read += n;
        if (read > max) {
            throw new TooLargeException("Refused " + what + " larger than " + max + " bytes");
        }
    }

    public static class TooLargeException extends IOException {
        public TooLargeException(String message) {
            super(message);
        }
    }
}
