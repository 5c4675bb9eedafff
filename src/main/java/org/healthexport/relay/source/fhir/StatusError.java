package org.healthexport.relay.source.fhir;

/**
 * A failed status poll or kick-off read from its OperationOutcome: whether asking again may help, and the
 * server's own words for the job's last error.
 */
public record StatusError(int httpCode, boolean isTransient, String text) {
}
