package org.healthexport.relay.source.healthex;

import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.healthexport.relay.auth.AuthException;
import org.healthexport.relay.job.ExportJob;

import java.net.http.HttpClient;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The patients of every HealthEx source (their patients files) and their tokens: a patient whose login is
 * configured gets a patient token ({@code POST /v1/auth/token} with {@code {email, password}}), cached per
 * patient and renewed like the researcher's. Route steps: {@link #hasLogin}, {@link #authorize}, {@link #renew}.
 */
public class HealthexPatients {
    private final Map<String, HealthexSource> sources;
    private final Map<String, PatientsFile> files;
    private final HttpClient http;
    private final Clock clock;
    private final Map<String, HealthexTokens> tokens = new ConcurrentHashMap<>();

    public HealthexPatients(Map<String, HealthexSource> sources, Map<String, PatientsFile> files, HttpClient http,
                            Clock clock) {
        this.sources = sources;
        this.files = files;
        this.http = http;
        this.clock = clock;
    }

    /** The configured patients of a source (none without a patients file). */
    public List<HealthexPatient> patients(String sourceId) {
        PatientsFile file = files.get(sourceId);
        return file == null ? List.of() : file.patients();
    }

    public Optional<HealthexPatient> find(String sourceId, String healthexPatientId) {
        PatientsFile file = files.get(sourceId);
        return file == null || healthexPatientId == null ? Optional.empty() : file.find(healthexPatientId);
    }

    /** Route condition: the relay can log in as the job's patient, so it watches the data-retrieval status. */
    public boolean hasLogin(@ExchangeProperty("job") ExportJob job) {
        return find(job.sourceId(), job.attribute(HealthexJobs.PATIENT_ID)).map(HealthexPatient::hasCredentials)
                .orElse(false);
    }

    /** Route step: {@code Authorization: Bearer <patient token>} for the job's patient. */
    public void authorize(@ExchangeProperty("job") ExportJob job, Exchange exchange) {
        exchange.getMessage().removeHeader("Authorization");
        String token = tokens(job).current().orElseThrow();
        exchange.getMessage().setHeader("Authorization", "Bearer " + token);
    }

    /** Route step after a 401: the patient logs in again on the next call. */
    public void renew(@ExchangeProperty("job") ExportJob job) {
        HealthexTokens t = tokens.get(key(job.sourceId(), job.attribute(HealthexJobs.PATIENT_ID)));
        if (t != null) {
            t.invalidate();
        }
    }

    public HealthexTokens tokens(ExportJob job) {
        String patientId = job.attribute(HealthexJobs.PATIENT_ID);
        HealthexSource source = sources.get(job.sourceId());
        HealthexPatient patient = find(job.sourceId(), patientId).filter(HealthexPatient::hasCredentials)
                .orElseThrow(() -> new AuthException("No login is configured for patient " + patientId
                        + " of source " + job.sourceId() + " in its patients-file", true, null));
        String sourceId = job.sourceId();
        // the login is read from the patients file at each login: a changed password is picked up
        return tokens.computeIfAbsent(key(sourceId, patientId), k -> new HealthexTokens(source.tokenUrl(),
                () -> find(sourceId, patientId).filter(HealthexPatient::hasCredentials).orElse(patient).login(),
                "patient " + patientId + " of source " + sourceId, http, clock));
    }

    private static String key(String sourceId, String patientId) {
        return sourceId + "\u0000" + patientId;
    }
}
