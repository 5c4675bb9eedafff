package org.healthexport.relay;

import org.apache.camel.util.FileUtil;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A configuration the relay refuses, in a JVM of its own: the process ends with the key named, even when the
 * demo's sandbox had already started serving HTTP (its threads used to keep the JVM up with no relay in it).
 */
class StartFailureTest {
    final Path work = Path.of("target/start-failure").toAbsolutePath();

    @Test
    void aRefusedConfigurationEndsTheProcessWithTheKeyNamedAfterTheDemoSandboxStarted() throws Exception {
        FileUtil.removeDir(work.toFile());
        Files.createDirectories(work);
        try (RelayProcess relay = RelayProcess.start(work, work.resolve("relay.log"),
                Map.of("relay.http.port", "0", "relay.poll.batch-size", "0"), Map.of())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> !relay.isAlive());
            assertThat(relay.exitValue()).isEqualTo(1);
            String log = relay.log();
            assertThat(log).contains("sandbox listening at") // the demo's sandbox was up before the refusal
                    .contains("ERROR").contains("The relay did not start: Property relay.poll.batch-size must be at "
                            + "least 1, not 0");
        }
    }
}
