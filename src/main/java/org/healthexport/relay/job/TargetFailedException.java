package org.healthexport.relay.job;

import java.io.IOException;

/** The target did not take a file or the receipt (S3, SFTP or the folder unavailable): retried with backoff. */
public class TargetFailedException extends IOException {
    public TargetFailedException(String targetKind, Throwable cause) {
        super("Target " + targetKind + " failed: " + cause.getClass().getSimpleName()
                + (cause.getMessage() == null ? "" : ": " + cause.getMessage()), cause);
    }
}
