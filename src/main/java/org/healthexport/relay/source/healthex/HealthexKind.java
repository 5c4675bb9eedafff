package org.healthexport.relay.source.healthex;

import org.healthexport.relay.auth.SourceAuth;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.http.VendorRequestIds;
import org.healthexport.relay.sandbox.HealthexSandbox;
import org.healthexport.relay.sandbox.SandboxServer;
import org.healthexport.relay.source.KindContext;
import org.healthexport.relay.source.SourceKind;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The HealthEx kind ({@code healthex}): per patient, {@code $updateData} with the researcher token, the
 * patient's data-retrieval status with the patient token (when the patient's login is configured), then the
 * patient's records pulled from FHIR {@code $everything} and delivered as NDJSON per resource type. Routes in
 * {@code routes/healthex.camel.yaml}; configuration and layout in {@code docs/healthex.md}.
 */
public class HealthexKind implements SourceKind {
    public static final String NAME = "healthex";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<String> pathPlaceholders() {
        return Set.of("orgId", "projectId", "healthexPatientId", "externalId", "retrievalId");
    }

    @Override
    public Set<String> keys() {
        return Set.of("fhir-base-url", "project-id", "org-id", "patients-file", "skip-interactive", "page-size",
                "max-pages", "pull-after", "no-retrieval-timeout", "older-retrieval-skew", "spool-dir", "auth.api-key",
                "auth.api-key-file", "auth.secret", "auth.secret-file");
    }

    @Override
    public String defaultPath() {
        return HealthexSource.DEFAULT_PATH;
    }

    @Override
    public SandboxServer sandbox(RelayProperties properties) {
        return HealthexSandbox.demo(properties.get("relay.sandbox.host", "127.0.0.1"));
    }

    @Override
    public void bind(KindContext c) {
        Map<String, HealthexSource> sources = new LinkedHashMap<>();
        Map<String, PatientsFile> files = new LinkedHashMap<>();
        for (SourceConfig config : c.sources().all()) {
            if (!NAME.equals(config.kind())) {
                continue;
            }
            HealthexSource source = HealthexSource.of(config);
            sources.put(config.id(), source);
            config.property("patients-file").ifPresent(f -> {
                PatientsFile file = new PatientsFile(config.id(), Path.of(f));
                file.patients(); // read now: a broken file stops the relay at startup, not at the first trigger
                files.put(config.id(), file);
            });
            // the researcher token: {apiKey, apiSecret}, each from its property or its -file (a mounted secret)
            c.auth().register(config.id(), new HealthexTokens(source.tokenUrl(), () -> Map.of(
                    "apiKey", SourceAuth.secret(config, "auth.api-key"),
                    "apiSecret", SourceAuth.secret(config, "auth.secret")),
                    "researcher API client of source " + config.id(), c.http(), c.clock()));
            // a missing key or secret stops the relay at startup rather than failing every job
            SourceAuth.secret(config, "auth.api-key");
            SourceAuth.secret(config, "auth.secret");
        }
        HealthexPatients patients = new HealthexPatients(sources, files, c.http(), c.clock());
        HealthexJobs jobs = new HealthexJobs(sources, patients, c.store(), c.jobs());
        c.bind("healthexPatients", patients);
        c.bind("healthexJobs", jobs);
        c.bind("healthexUpdate", new UpdateData(sources, patients, c.jobs()));
        c.bind("healthexStatus", new RetrievalWatch(sources, c.jobs(), c.notifier()));
        c.bind("healthexErrors", new HealthexErrors());
        c.bind("healthexPull", new EverythingPull(c.sources(), sources, c.store(), c.jobs(), c.auth(), c.target(),
                c.http(), c.properties().httpReadTimeout(),
                VendorRequestIds.parse(c.properties().get("relay.http.request-id-headers", null))));
        c.adopters().put(NAME, jobs);
    }
}
