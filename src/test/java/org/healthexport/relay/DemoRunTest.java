package org.healthexport.relay;

import org.apache.camel.util.FileUtil;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The README's first command with nothing configured, in a JVM of its own: the relay runs the demo (the built-in
 * FHIR Bulk Data sandbox, an H2 store and the outbox under {@code ./data}), delivers it, says where, and logs no
 * WARN or ERROR line on the way, nor when it is stopped: a first start should give its user nothing to worry about.
 * Given a configuration it refuses, it says which key in one ERROR line and ends; a key it does not know, it names.
 */
class DemoRunTest {
    final Path work = Path.of("target/demo-run").toAbsolutePath();

    @BeforeEach
    void emptyFolder() throws IOException {
        FileUtil.removeDir(work.toFile());
        Files.createDirectories(work);
    }

    @Test
    void theDemoIsDeliveredWithoutAWarning() throws Exception {
        try (RelayProcess relay = RelayProcess.start(work, work.resolve("relay.log"), Map.of("relay.http.port", "0"),
                Map.of())) {
            await().atMost(Duration.ofSeconds(90)).until(() -> relay.log().contains("=== Demo export delivered ==="));
            String log = relay.log();
            String receipt = log.lines().filter(l -> l.trim().startsWith("receipt:")).findFirst().orElseThrow()
                    .trim().substring("receipt:".length()).trim();
            assertThat(Path.of(receipt)).startsWith(work.resolve("data/outbox")).isRegularFile();
            assertThat(log.lines().filter(l -> l.contains(" WARN ") || l.contains(" ERROR "))).isEmpty();
            // only the demo's kind's routes were built (UnusedKindRoutes)
            assertThat(log).contains("Routes of kinds no source uses, not loaded: ehealth-jobs, healthex, oracle-health,"
                    + " redox-bulk").contains("after-delivery-fhir-bulk - Job ");
            relay.close(); // SIGTERM, as Ctrl-C: the stop too is quiet (H2 once closed the store under the routes)
            assertThat(relay.log()).contains("job lease(s) held by");
            assertThat(relay.log().lines().filter(l -> l.contains(" WARN ") || l.contains(" ERROR "))).isEmpty();
        }
    }

    /**
     * The demo's sandbox threads used to keep the JVM up, with no relay in it, after a configuration was refused. A
     * misspelt key is named first, at WARN: read as unset, it would otherwise change nothing, silently.
     */
    @Test
    void aRefusedConfigurationEndsTheProcessWithTheKeyNamedAfterTheDemoSandboxStarted() throws Exception {
        try (RelayProcess relay = RelayProcess.start(work, work.resolve("relay.log"),
                Map.of("relay.http.port", "0", "relay.poll.batch-size", "0", "relay.target.file.sycn", "false"),
                Map.of("RELAY_SOURCES_DEMO_EXPORTT", "$export"))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> !relay.isAlive());
            assertThat(relay.exitValue()).isEqualTo(1);
            assertThat(relay.log()).contains("sandbox listening at") // the demo's sandbox was up before the refusal
                    .contains("ERROR").contains("The relay did not start: Property relay.poll.batch-size must be at "
                            + "least 1, not 0")
                    .contains("WARN").contains("relay.target.file.sycn is not a key of the relay: ignored unless"
                            + " a route of your own reads it (keys of relay.target.file.*: dir, sync)")
                    .contains("Environment variable RELAY_SOURCES_DEMO_EXPORTT is not a key of a fhir-bulk source");
        }
    }
}
