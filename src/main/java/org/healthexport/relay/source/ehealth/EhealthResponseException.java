package org.healthexport.relay.source.ehealth;

import org.healthexport.relay.http.MalformedAnswerException;

/**
 * A status answer the relay cannot read (not JSON, no {@code data}, oversized). Not permanent: the shared
 * error handler retries the poll with backoff (eHealth or a proxy in front of it may recover) until the job's
 * deadline. A {@link MalformedAnswerException}, so its fault line says {@code fault=malformed} with the HTTP code.
 */
public class EhealthResponseException extends MalformedAnswerException {
    public EhealthResponseException(String message) {
        super(message);
    }
}
