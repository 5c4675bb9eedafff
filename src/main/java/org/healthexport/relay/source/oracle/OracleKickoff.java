package org.healthexport.relay.source.oracle;

import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.NewJob;
import org.healthexport.relay.source.fhir.FhirBulkKickoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Oracle Health Millennium kick-offs, on top of the generic Bulk Data kick-off: Group export by GET, Patient
 * export by POST with a {@code Parameters} body of {@code patient} references (Oracle's Patient export is POST
 * only and needs at least one patient), the parameters Oracle supports passed through as given and the others
 * refused at startup; the Job_ID read from the status URL; adoption of a Job_ID.
 */
public class OracleKickoff extends FhirBulkKickoff {
    private static final Logger LOG = LoggerFactory.getLogger(OracleKickoff.class);
    /** Parameters Oracle's Group and Patient export accept (group-export.md); {@code patient} only for Patient. */
    static final Set<String> SUPPORTED = Set.of("_type", "_typeFilter", "_since", "includeAssociatedData",
            "_outputFormat", "patient");
    static final String JOBS_PATH = "bulk-export/jobs/";
    private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    public OracleKickoff(Sources sources, JobStore store, JobLifecycle jobs) {
        super(sources, store, jobs);
    }

    @Override
    protected String vendor() {
        return "Oracle Health";
    }

    @Override
    protected String export(SourceConfig source) {
        return source.requireProperty("export");
    }

    /** Patient export is POST at Oracle, Group export GET ({@link #validate} refuses another {@code kickoff-method}). */
    @Override
    protected String method(SourceConfig source, String path) {
        return source.property("kickoff-method", isPatientExport(path) ? "POST" : "GET").toUpperCase();
    }

    /** {@code .../bulk-export/jobs/{Job_ID}} -> Job_ID. */
    @Override
    protected String vendorJobId(URI statusUrl) {
        String path = statusUrl.getPath();
        int at = path.indexOf("/" + JOBS_PATH);
        return at < 0 ? null : path.substring(at + JOBS_PATH.length() + 1).replaceAll("/+$", "");
    }

    /** Adds {@code handling=lenient} when the source asks Oracle to ignore parameters it does not support. */
    @Override
    public void prepare(@ExchangeProperty("sourceId") String sourceId, Exchange exchange) {
        super.prepare(sourceId, exchange);
        if (sources.get(sourceId).flag("lenient", false)) {
            exchange.getMessage().setHeader("Prefer", "respond-async, handling=lenient");
        }
    }

    /**
     * Checks an Oracle source at startup, so a kick-off Oracle would refuse (400) fails the start with a clear
     * message instead of failing every night.
     */
    public void validate(SourceConfig source) {
        String export = source.property("export").orElseThrow(() -> new ConfigurationException("Source "
                + source.id() + " needs relay.sources." + source.id() + ".export, e.g. Group/<group id>/$export?_type="
                + "Patient,Observation or Patient/$export?patient=Patient/<id>"));
        String path = export.contains("?") ? export.substring(0, export.indexOf('?')) : export;
        boolean patient = isPatientExport(path);
        if (!patient && !path.matches("Group/[^/]+/\\$export")) {
            throw new ConfigurationException("Source " + source.id() + ": Oracle Health exports Group/<id>/$export "
                    + "or Patient/$export, not '" + path + "'");
        }
        Set<String> names = parameterNames(export);
        String method = method(source, path);
        if (patient && !method.equals("POST")) {
            throw new ConfigurationException("Source " + source.id() + ": Oracle's Patient export is POST only");
        }
        if (!patient && !method.equals("GET")) {
            throw new ConfigurationException("Source " + source.id() + ": Oracle's Group export is GET only");
        }
        if (patient && !names.contains("patient")) {
            throw new ConfigurationException("Source " + source.id() + ": Oracle's Patient export needs at least one "
                    + "patient parameter (Patient/$export?patient=Patient/<id>,Patient/<id>)");
        }
        if (!patient && names.contains("patient")) {
            throw new ConfigurationException("Source " + source.id() + ": Oracle's Group export does not take the "
                    + "patient parameter; use Patient/$export for a list of patients");
        }
        boolean lenient = source.flag("lenient", false); // read here so that a typo stops the start
        Set<String> unsupported = new LinkedHashSet<>(names);
        unsupported.removeAll(SUPPORTED);
        if (!unsupported.isEmpty()) {
            if (!lenient) {
                throw new ConfigurationException("Source " + source.id() + ": Oracle Health does not support "
                        + unsupported + " (supported: _type, _typeFilter, _since, includeAssociatedData, "
                        + "_outputFormat, and patient for Patient export); remove them or set lenient=true");
            }
            LOG.warn("Source {}: Oracle will ignore {} (lenient)", source.id(), unsupported);
        }
        if (names.contains("_typeFilter") && !names.contains("_type")) {
            throw new ConfigurationException("Source " + source.id() + ": Oracle needs _type with _typeFilter");
        }
    }

    /**
     * {@code POST /api/jobs {"source": "<id>", "jobId": "<Job_ID>"}}: the status URL is the base URL's
     * {@code bulk-export/jobs/<Job_ID>}. A {@code statusUrl} is accepted too.
     */
    @Override
    public NewJob adopt(SourceConfig source, Map<String, Object> request) {
        Object jobId = request.get("jobId");
        if (jobId == null && request.get("statusUrl") != null) {
            NewJob byUrl = super.adopt(source, request);
            return new NewJob(byUrl.sourceId(), byUrl.kind(), vendorJobId(URI.create(byUrl.statusUrl())),
                    byUrl.statusUrl(), null, Map.of());
        }
        if (!(jobId instanceof String id) || !JOB_ID.matcher(id.trim()).matches()) {
            throw new IllegalArgumentException("An oracle-health job is adopted with \"jobId\": the Job_ID of its "
                    + "status URL (letters, digits, '.', '_', '-')");
        }
        URI status = source.requireBaseUrl().resolve(JOBS_PATH + URLEncoder.encode(id.trim(), StandardCharsets.UTF_8));
        return new NewJob(source.id(), source.kind(), id.trim(), status.toString(), null, Map.of());
    }

    static boolean isPatientExport(String path) {
        return path.equals("Patient/$export");
    }

    /** Scopes to ask for when none are configured: {@code system/<Type>.read} for every type of {@code _type}. */
    static String scopesFor(String export) {
        List<String> types = parseTypes(export);
        if (types.isEmpty()) {
            return null;
        }
        StringBuilder scopes = new StringBuilder();
        for (String t : types) {
            scopes.append(scopes.length() == 0 ? "" : " ").append("system/").append(t).append(".read");
        }
        return scopes.toString();
    }

    private static List<String> parseTypes(String export) {
        int q = export.indexOf('?');
        if (q < 0) {
            return List.of();
        }
        for (String pair : export.substring(q + 1).split("&")) {
            if (pair.startsWith("_type=")) {
                String value = URLDecoder.decode(pair.substring(6), StandardCharsets.UTF_8);
                return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
            }
        }
        return List.of();
    }
}
