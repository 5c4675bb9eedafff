package org.healthexport.relay.http;

import java.io.IOException;

/**
 * A source file the relay refuses to deliver, as configured (a line over {@code relay.download.max-line-bytes}
 * with {@code relay.download.oversized-lines=refuse}). Fetching it again would give the same bytes: the job
 * fails with this reason instead of being retried.
 */
public class RefusedFileException extends IOException {
    public RefusedFileException(String message) {
        super(message);
    }
}
