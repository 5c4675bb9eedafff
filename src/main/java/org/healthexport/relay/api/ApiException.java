package org.healthexport.relay.api;

/** A jobs API request that cannot be served: the status code and a message for the JSON error body. */
public class ApiException extends RuntimeException {
    private final int status;

    public ApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
