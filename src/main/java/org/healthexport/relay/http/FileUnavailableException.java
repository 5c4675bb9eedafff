package org.healthexport.relay.http;

/**
 * A source file could not be fetched. {@code gone} (404, 410) and {@code forbidden} (403, a presigned link
 * past its life) call for a fresh manifest; otherwise the fault is transient and the download is retried.
 */
public class FileUnavailableException extends java.io.IOException {
    private final int httpCode;
    private final String requestId;

    public FileUnavailableException(String message, int httpCode) {
        this(message, httpCode, null);
    }

    /** {@code httpCode} 0: no answer (the connection failed or was cut mid-file); {@code requestId}: the answer's. */
    public FileUnavailableException(String message, int httpCode, String requestId) {
        super(message);
        this.httpCode = httpCode;
        this.requestId = requestId;
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

    public boolean isExpiredLink() {
        return isGone() || isForbidden();
    }
}
