package org.healthexport.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import org.apache.camel.util.FileUtil;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobFile;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.TestDatabases;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.healthexport.relay.sandbox.SandboxData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A relay process killed with SIGKILL during a delivery, three times in a row, then started again: every file
 * ends delivered exactly once, byte-exact, nothing half-written under a final name. The store is PostgreSQL
 * (given by -D), the target folder comes from an environment variable: both override paths are exercised.
 */
class RelayRestartTest {
    static final long BIG = 6L * 1024 * 1024;
    final Path work = Path.of("target/relay-restart").toAbsolutePath();
    final Path outbox = work.resolve("outbox");
    FhirBulkSandbox sandbox;
    HikariDataSource dataSource;
    JobStore store;
    String storeUrl;

    @BeforeEach
    void start() throws Exception {
        FileUtil.removeDir(work.toFile());
        Files.createDirectories(work);
        sandbox = new FhirBulkSandbox("127.0.0.1", 0).pollsBeforeReady(1).retryAfterSeconds(1)
                .bigFileBytes(BIG).bigFileBytesPerSecond(2L * 1024 * 1024);
        sandbox.start();
        storeUrl = TestDatabases.newPostgresSchema();
        dataSource = TestDatabases.migrated(storeUrl);
        store = new JobStore(dataSource, Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        sandbox.stop();
        dataSource.close();
    }

    RelayProcess relay(int run) throws Exception {
        Map<String, String> props = Map.of(
                "relay.store.url", storeUrl,
                "relay.http.port", "0",
                "relay.poll.interval", "200",
                "relay.poll.idle-backoff", "0",
                "relay.poll.lease", "3s",
                "relay.download.parallel", "1",
                "relay.sources.bulk.kind", "fhir-bulk",
                "relay.sources.bulk.base-url", sandbox.fhirBase(),
                "relay.sources.bulk.allowed-hosts", sandbox.storageOrigin(),
                "relay.sources.bulk.kickoff-on-start", "true");
        return RelayProcess.start(work, work.resolve("relay-" + run + ".log"), props,
                Map.of("RELAY_TARGET_FILE_DIR", outbox.toString()));
    }

    @Test
    void killedThreeTimesDuringDeliveryThenEveryFileLandsOnce() throws Exception {
        for (int run = 1; run <= 3; run++) {
            RelayProcess relay = relay(run);
            int before = bigFileFetches();
            // kill while the large file is on its way (it takes about 3 s to serve)
            await().atMost(Duration.ofSeconds(60)).until(() -> bigFileFetches() > before);
            Thread.sleep(700);
            relay.kill();
            assertThat(onlyJob().state()).isIn(JobState.READY, JobState.DELIVERING);
        }
        try (RelayProcess relay = relay(4)) {
            await().atMost(Duration.ofSeconds(90)).until(() -> onlyJob().state() == JobState.DELIVERED);
            assertThat(relay.log()).contains("delivered: 4 files");
        }
        ExportJob job = onlyJob();
        Path folder = outbox.resolve("bulk").resolve(job.id());
        try (Stream<Path> files = Files.walk(outbox)) {
            assertThat(files.filter(Files::isRegularFile).map(p -> folder.relativize(p).toString()))
                    .containsExactlyInAnyOrder("Patient-1.ndjson", "Observation-1.ndjson", "Observation-2.ndjson",
                            "error/OperationOutcome-1.ndjson", "receipt.json");
        }
        assertThat(Files.readAllBytes(folder.resolve("Patient-1.ndjson"))).isEqualTo(sandbox.content("Patient-1.ndjson"));
        assertThat(Files.readAllBytes(folder.resolve("Observation-2.ndjson"))).isEqualTo(sandbox.content("Observation-2.ndjson"));
        String bigSha = sha256(Files.newInputStream(folder.resolve("Observation-1.ndjson")));
        assertThat(bigSha).isEqualTo(sha256(SandboxData.bigNdjson(BIG)));
        JsonNode receipt = new ObjectMapper().readTree(folder.resolve("receipt.json").toFile());
        assertThat(receipt.path("files")).hasSize(4);
        for (JobFile f : store.files(job.id())) {
            assertThat(f.isDelivered()).isTrue();
        }
        // the file delivered before the first kill was never fetched again
        assertThat(sandbox.requests().stream().filter(r -> r.path().endsWith("/Patient-1.ndjson")).count()).isEqualTo(1);
        // one export only, though the relay started four times with kickoff-on-start
        assertThat(sandbox.requests().stream().filter(r -> r.path().endsWith("$export")).count()).isEqualTo(1);
    }

    private int bigFileFetches() {
        return (int) sandbox.requests().stream().filter(r -> r.path().endsWith("/Observation-1.ndjson")).count();
    }

    private ExportJob onlyJob() {
        List<ExportJob> jobs = store.list(null, 10);
        assertThat(jobs).hasSize(1);
        return jobs.get(0);
    }

    static String sha256(InputStream in) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        try (in) {
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) {
                d.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

}
