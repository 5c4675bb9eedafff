package org.healthexport.relay.deliver;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * Keeps a target's configured secrets (secret key, password, key passphrase) out of what it throws: a
 * failure becomes an {@link IOException} whose message and causes are copies of the original chain with every
 * secret value replaced, stack traces kept. The job error handler then retries it with backoff.
 */
final class TargetSecrets {
    private static final int MAX_DEPTH = 8;
    private static final int MAX_ROUNDS = 16;
    private static final String MARKER = "REDACTED";
    private final List<String> secrets;

    TargetSecrets(List<String> secrets) {
        this.secrets = secrets.stream().filter(s -> s != null && !s.isEmpty()).toList();
    }

    String redact(String text) {
        if (text == null) {
            return null;
        }
        // One replace() per secret is not enough: occurrences overlap (a passphrase built on the password), and
        // a marker joins the text beside it into a new occurrence ("RRRRRRRR" + "E" around "...RRRRRRR" +
        // "REDACTED"). So every occurrence is covered and each covered run replaced, again until none is left.
        // A secret inside the word REDACTED itself is replaced once and then cannot be told from the marker.
        String out = cover(text, secrets);
        List<String> beyondMarker = secrets.stream().filter(s -> !MARKER.contains(s)).toList();
        for (int round = 0; round < MAX_ROUNDS; round++) {
            String next = cover(out, beyondMarker);
            if (next.equals(out)) {
                return out;
            }
            out = next;
        }
        return MARKER; // text that keeps forming a secret around the markers is dropped whole
    }

    private static String cover(String text, List<String> secrets) {
        boolean[] covered = new boolean[text.length()];
        boolean any = false;
        for (String secret : secrets) {
            for (int i = text.indexOf(secret); i >= 0; i = text.indexOf(secret, i + 1)) {
                Arrays.fill(covered, i, i + secret.length(), true);
                any = true;
            }
        }
        if (!any) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); ) {
            if (covered[i]) {
                out.append(MARKER);
                while (i < text.length() && covered[i]) {
                    i++;
                }
            } else {
                out.append(text.charAt(i++));
            }
        }
        return out.toString();
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
