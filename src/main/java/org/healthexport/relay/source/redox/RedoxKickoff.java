package org.healthexport.relay.source.redox;

import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.source.fhir.FhirBulkKickoff;

import java.util.Set;

/**
 * Redox's {@code group-export}: {@code GET {base}/fhir/R4/{destinationSlug}/{environment}/Group/{groupId}/$export}
 * built from {@code destination-slug}, {@code environment} and {@code group-id}, with {@code export-params}
 * (e.g. {@code _type=Patient,Encounter}) and the generic {@code since} added as query parameters.
 */
public class RedoxKickoff extends FhirBulkKickoff {
    static final Set<String> ENVIRONMENTS = Set.of("Development", "Staging", "Production");

    public RedoxKickoff(Sources sources, JobStore store, JobLifecycle jobs) {
        super(sources, store, jobs);
    }

    @Override
    protected String vendor() {
        return "Redox";
    }

    @Override
    protected String export(SourceConfig source) {
        String params = source.property("export-params", "").trim();
        if (params.startsWith("?")) {
            params = params.substring(1);
        }
        return "fhir/R4/" + source.requireProperty("destination-slug") + "/" + source.requireProperty("environment")
                + "/Group/" + source.requireProperty("group-id") + "/$export" + (params.isEmpty() ? "" : "?" + params);
    }

    @Override
    protected String method(SourceConfig source, String path) {
        return "GET";
    }

    /** Startup checks: the path segments Redox needs, case-sensitive as its URLs are. */
    public void validate(SourceConfig source) {
        for (String key : new String[] {"destination-slug", "environment", "group-id"}) {
            String value = source.property(key).orElseThrow(() -> new ConfigurationException("Source " + source.id()
                    + " (redox-bulk) needs relay.sources." + source.id() + "." + key));
            if (!value.matches("[A-Za-z0-9._-]+")) {
                throw new ConfigurationException("Source " + source.id() + ": " + key + " '" + value
                        + "' must be one URL path segment (letters, digits, '.', '_', '-')");
            }
        }
        String env = source.requireProperty("environment");
        if (!ENVIRONMENTS.contains(env)) {
            throw new ConfigurationException("Source " + source.id() + ": environment must be Development, Staging or "
                    + "Production (Redox URLs are case-sensitive), not '" + env + "'");
        }
    }
}
