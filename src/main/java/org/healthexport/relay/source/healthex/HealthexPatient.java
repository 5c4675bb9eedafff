package org.healthexport.relay.source.healthex;

import org.healthexport.relay.config.ConfigurationException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * One patient of a HealthEx source: the HealthEx patient id ({@code referenceId} of Add Patients, used by
 * {@code $updateData} and {@code $everything}), the researcher's own external id, and optionally the patient's
 * login (email and password, or a file holding the password) with which the relay watches the patient's
 * data-retrieval status. {@link #toString()} never shows the password.
 */
public record HealthexPatient(String healthexPatientId, String externalId, String email, String password,
                              Path passwordFile) {

    public HealthexPatient {
        externalId = blankToNull(externalId);
        email = blankToNull(email);
        password = password == null || password.isBlank() ? null : password;
    }

    /** The relay can log in as this patient and watch the retrieval status. */
    public boolean hasCredentials() {
        return email != null && (password != null || passwordFile != null);
    }

    /** The {@code {email, password}} login body; the password read from its file at each login. */
    public Map<String, String> login() {
        if (!hasCredentials()) {
            throw new ConfigurationException("Patient " + healthexPatientId + " has no login configured");
        }
        return Map.of("email", email, "password", Optional.ofNullable(password).orElseGet(this::readPasswordFile));
    }

    private String readPasswordFile() {
        try {
            return Files.readString(passwordFile).trim();
        } catch (IOException e) {
            throw new ConfigurationException("Cannot read the password-file " + passwordFile + " of patient "
                    + healthexPatientId);
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    @Override
    public String toString() {
        return "HealthexPatient[" + healthexPatientId + ", externalId=" + externalId + ", login="
                + (hasCredentials() ? "yes" : "no") + "]";
    }
}
