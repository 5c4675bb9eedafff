package org.healthexport.relay.source.healthex;

import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * The settings of one HealthEx source, read once at startup ({@code relay.sources.<id>.*}; see docs/healthex.md).
 * {@code base-url} is the API ({@code https://api.healthex.io}); the FHIR server's base defaults to
 * {@code <base-url>/FHIR/R4/} and may live elsewhere ({@code fhir-base-url}).
 */
public record HealthexSource(
        String id,
        URI apiBase,
        URI tokenUrl,
        URI fhirBase,
        String projectId,
        String orgId,
        Boolean skipInteractive,
        Duration pullAfter,
        Duration noRetrievalTimeout,
        Duration olderRetrievalSkew,
        int pageSize,
        int maxPages,
        String path) {

    public static final String DEFAULT_PATH = "healthex/{projectId}/{healthexPatientId}/{retrievalId}";

    public static HealthexSource of(SourceConfig s) {
        URI api = s.requireBaseUrl();
        URI fhir = s.property("fhir-base-url").map(HealthexSource::withSlash).orElse(api.resolve("FHIR/R4/"));
        URI token = s.property("auth.token-url").map(URI::create).orElse(api.resolve("v1/auth/token"));
        String project = s.requireProperty("project-id").trim();
        if (!PatientsFile.PATIENT_ID.matcher(project).matches()) {
            throw new ConfigurationException("Source " + s.id() + ": project-id must be letters, digits, '.', '_', "
                    + "':' or '-'");
        }
        Boolean skip = s.optionalFlag("skip-interactive").orElse(null);
        int pageSize = s.intProperty("page-size", 100);
        if (pageSize < 1 || pageSize > 10_000) {
            throw new ConfigurationException("Source " + s.id() + ": page-size must be between 1 and 10000");
        }
        String path = s.property("path", DEFAULT_PATH);
        if (!path.contains("{retrievalId}") && !path.contains("{jobId}")) {
            throw new ConfigurationException("Source " + s.id() + ": path '" + path + "' must contain {retrievalId}"
                    + " or {jobId}, so that a new retrieval never overwrites an earlier delivery");
        }
        return new HealthexSource(s.id(), api, token, fhir, project, s.property("org-id").orElse(null), skip,
                s.duration("pull-after", "healthex.pull-after", Duration.ofMinutes(10)),
                s.duration("no-retrieval-timeout", "healthex.no-retrieval-timeout", Duration.ofHours(2)),
                s.duration("older-retrieval-skew", "healthex.older-retrieval-skew", Duration.ofSeconds(30)),
                pageSize, s.intProperty("max-pages", 100_000, 1), path);
    }

    public Optional<String> org() {
        return Optional.ofNullable(orgId);
    }

    /** {@code POST} target of {@code $updateData} for one patient. */
    public URI updateDataUrl(String healthexPatientId) {
        return apiBase.resolve("v1/projects/" + projectId + "/recruitment/identified-patients/" + healthexPatientId
                + "/$updateData");
    }

    /** {@code GET} target of the patient's data-retrieval status (patient token). */
    public URI statusUrl() {
        return apiBase.resolve("v1/patients/data-retrieval/status");
    }

    /** The first page of the patient's {@code $everything}. */
    public URI everythingUrl(String healthexPatientId) {
        return URI.create(fhirBase + "Person/" + healthexPatientId + "/$everything?_count=" + pageSize
                + "&_offset=0");
    }

    private static URI withSlash(String value) {
        URI uri = URI.create(value.endsWith("/") ? value : value + "/");
        if (uri.getScheme() == null || uri.getHost() == null) {
            throw new ConfigurationException("fhir-base-url '" + value + "' must be an absolute http(s) URL");
        }
        return uri;
    }
}
