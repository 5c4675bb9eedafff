package org.healthexport.relay;

import org.apache.camel.util.FileUtil;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The relay started from a folder reads that folder's application.properties and routes/*.camel.yaml (edits
 * take effect at the next start, no rebuild), and every property is overridden by -D and by an environment
 * variable; a source can even be declared from the environment alone.
 */
class RelayConfigFilesTest {
    final Path work = Path.of("target/relay-config-files").toAbsolutePath();
    FhirBulkSandbox sandbox;

    @BeforeEach
    void start() throws Exception {
        FileUtil.removeDir(work.toFile());
        Files.createDirectories(work.resolve("routes"));
        sandbox = new FhirBulkSandbox("127.0.0.1", 0).pollsBeforeReady(1);
        sandbox.start();
    }

    @AfterEach
    void stop() {
        sandbox.stop();
    }

    @Test
    void theWorkingFolderConfigurationWinsAndEveryKeyCanBeOverridden() throws Exception {
        // the project's own files, as a deployment folder (or a ConfigMap) would hold them, plus edits
        String properties = Files.readString(Path.of("application.properties"))
                + "\nrelay.target.file.dir = delivered-here\n"
                + "relay.store.url = jdbc:h2:file:./data/store\n"
                + "relay.http.port = 0\n"
                + "relay.sources.bulk.kind = fhir-bulk\n"
                + "relay.sources.bulk.base-url = http://127.0.0.1:1/not-this-one\n"
                + "relay.sources.bulk.export = Group/from-file/$export\n";
        Files.writeString(work.resolve("application.properties"), properties);
        try (Stream<Path> routes = Files.list(Path.of("routes"))) {
            for (Path r : routes.toList()) {
                Files.copy(r, work.resolve("routes").resolve(r.getFileName()));
            }
        }
        Files.writeString(work.resolve("routes/probe.camel.yaml"), """
                - route:
                    id: probe
                    description: Proves that routes are read from the working folder
                    from:
                      uri: timer:probe
                      parameters:
                        repeatCount: 1
                      steps:
                        - log: "probe route loaded from the working folder"
                """);

        Map<String, String> systemProperties = Map.of(
                "relay.sources.bulk.base-url", sandbox.fhirBase(),            // -D beats the file
                "relay.sources.bulk.allowed-hosts", sandbox.storageOrigin());
        Map<String, String> environment = Map.of(
                "RELAY_SOURCES_BULK_EXPORT", "Group/from-env/$export",      // env beats the file
                "RELAY_SOURCES_BULK_KICKOFF_ON_START", "true",
                "RELAY_SOURCES_ENVONLY_KIND", "fhir-bulk",                  // a source from the environment alone
                "RELAY_SOURCES_ENVONLY_BASE_URL", sandbox.fhirBase(),
                "RELAY_SOURCES_ENVONLY_EXPORT", "Patient/$export",
                "RELAY_SOURCES_ENVONLY_ALLOWED_HOSTS", sandbox.storageOrigin(),
                "RELAY_SOURCES_ENVONLY_KICKOFF_ON_START", "true");
        try (RelayProcess relay = RelayProcess.start(work, work.resolve("relay.log"), systemProperties, environment)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> receipts(work.resolve("delivered-here")) == 2);
            assertThat(relay.log()).contains("probe route loaded from the working folder");
        }
        assertThat(sandbox.requests()).anyMatch(r -> r.path().endsWith("/Group/from-env/$export"))
                .noneMatch(r -> r.path().endsWith("/Group/from-file/$export"))
                .anyMatch(r -> r.path().endsWith("/Patient/$export"));
        assertThat(Files.isDirectory(work.resolve("delivered-here/bulk"))).isTrue();
        assertThat(Files.isDirectory(work.resolve("delivered-here/envonly"))).isTrue();
    }

    private static long receipts(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(p -> p.getFileName().toString().equals("receipt.json")).count();
        }
    }
}
