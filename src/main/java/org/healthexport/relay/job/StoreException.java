package org.healthexport.relay.job;

/** The job store could not do what was asked; the message names the job or source, never a credential. */
public class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
