package org.healthexport.relay.source.ehealth;

/**
 * A status answer the relay cannot read (not JSON, no {@code data}, oversized). Not permanent: the shared
 * error handler retries the poll with backoff (eHealth or a proxy in front of it may recover) until the job's
 * deadline.
 */
public class EhealthResponseException extends RuntimeException {
    public EhealthResponseException(String message) {
        super(message);
    }
}
