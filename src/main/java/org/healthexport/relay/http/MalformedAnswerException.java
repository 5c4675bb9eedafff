package org.healthexport.relay.http;

/** An answer of a source the relay cannot read (a broken status body or manifest): retried with backoff. */
public class MalformedAnswerException extends RuntimeException {
    public MalformedAnswerException(String message) {
        super(message);
    }
}
