package org.healthexport.relay.deliver;

import java.io.IOException;
import java.util.List;

/**
 * Keeps a target's configured secrets (secret key, password, key passphrase) out of what it throws: a
 * failure becomes an {@link IOException} whose message and causes are copies of the original chain with every
 * secret value replaced, stack traces kept. The job error handler then retries it with backoff.
 */
final class TargetSecrets {
    private static final int MAX_DEPTH = 8;
    private final List<String> secrets;

    TargetSecrets(List<String> secrets) {
        this.secrets = secrets.stream().filter(s -> s != null && !s.isEmpty()).toList();
    }

    String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (String secret : secrets) {
            out = out.replace(secret, "REDACTED");
        }
        return out;
    }

    /** {@code what}: the failed action, e.g. "S3 upload of s3://bucket/key". */
    IOException failure(String what, Throwable error) {
        return new IOException(redact(what + " failed: " + describe(error)), copy(error, 0));
    }

    private Throwable copy(Throwable error, int depth) {
        if (error == null || depth >= MAX_DEPTH) {
            return null;
        }
        Redacted copy = new Redacted(redact(describe(error)), copy(error.getCause(), depth + 1));
        copy.setStackTrace(error.getStackTrace());
        return copy;
    }

    private static String describe(Throwable error) {
        return error.getClass().getName() + (error.getMessage() == null ? "" : ": " + error.getMessage());
    }

    /** A cause as it was thrown, minus the secrets. */
    static final class Redacted extends Exception {
        Redacted(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public String toString() {
            return getMessage();
        }
    }
}
