package org.healthexport.relay.http;

import java.io.IOException;

/**
 * A source file could not be fetched. {@code gone} (404, 410) and {@code forbidden} (403) on a link that carries
 * its own capability (a presigned link past its life) call for a fresh manifest; a 403 to the source's own token
 * is a refusal that a fresh manifest does not change (a missing scope, another client's export); otherwise the
 * fault is transient and the download is retried.
 */
public class FileUnavailableException extends IOException {
    private final int httpCode;
    private final String requestId;
    private final boolean sentToken;

    public FileUnavailableException(String message, int httpCode) {
        this(message, httpCode, null);
    }

    /** {@code httpCode} 0: no answer (the connection failed or was cut mid-file); {@code requestId}: the answer's. */
    public FileUnavailableException(String message, int httpCode, String requestId) {
        this(message, httpCode, requestId, false);
    }

    /** {@code sentToken}: the failing request carried the source's token (its own origin, the manifest asked). */
    public FileUnavailableException(String message, int httpCode, String requestId, boolean sentToken) {
        super(message);
        this.httpCode = httpCode;
        this.requestId = requestId;
        this.sentToken = sentToken;
    }

    /** The server's request id of the failing answer (see {@link VendorRequestIds}), or null. */
    public String requestId() {
        return requestId;
    }

    public int httpCode() {
        return httpCode;
    }

    public boolean isGone() {
        return httpCode == 404 || httpCode == 410;
    }

    public boolean isForbidden() {
        return httpCode == 403;
    }

    /** A 403 to a request that carried the source's token: the client may not read the file. */
    public boolean isRefusedToTheToken() {
        return isForbidden() && sentToken;
    }

    public boolean isExpiredLink() {
        return isGone() || isForbidden() && !sentToken;
    }
}
