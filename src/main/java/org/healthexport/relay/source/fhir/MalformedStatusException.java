package org.healthexport.relay.source.fhir;

import org.healthexport.relay.http.MalformedAnswerException;

/** A status body the relay cannot read: the job keeps polling with backoff (the vendor may recover) until its deadline. */
public class MalformedStatusException extends MalformedAnswerException {
    public MalformedStatusException(String message) {
        super(message);
    }
}
