package org.healthexport.relay.auth;

/**
 * A token endpoint refused the relay. {@code permanent} errors (a bad key id, an unknown client, a wrong content
 * type) fail the job with the server's reason; others (5xx, network) are retried. Never carries a secret.
 */
public class AuthException extends RuntimeException {
    private final boolean permanent;

    public AuthException(String message, boolean permanent, Throwable cause) {
        super(message, cause);
        this.permanent = permanent;
    }

    public boolean isPermanent() {
        return permanent;
    }
}
