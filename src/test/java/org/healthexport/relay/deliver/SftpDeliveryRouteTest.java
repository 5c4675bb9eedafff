package org.healthexport.relay.deliver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.healthexport.relay.testing.CapturedLogs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The real routes delivering the fhir-bulk sandbox export to an SFTP server (MINA SSHD, started by the static
 * initializer before the Camel context, known_hosts written for it): every file under a temporary name then
 * renamed, receipt.json renamed last, and the password in no log line; and the server down for a minute during a
 * delivery (fault 7 of issue 8): waited out, every file delivered once.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:sftp-delivery-route;DB_CLOSE_DELAY=-1",
        "relay.sandbox.enabled=true",
        "relay.sandbox.retry-after=1",
        "relay.sources.bulk.kind=fhir-bulk",
        "relay.sources.bulk.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.bulk.export=Group/g1/$export?_type=Patient,Observation",
        "relay.sources.bulk.allowed-hosts=127.0.0.1",
        "relay.poll.max-wait=10s", // the outage row: retries at most 10 s apart once the server is back
        "relay.target.kind=sftp",
        "relay.target.sftp.host=127.0.0.1",
        "relay.target.sftp.port={{sys:test.sftp.port}}",
        "relay.target.sftp.username=" + SftpServer.USER,
        "relay.target.sftp.password=" + SftpServer.PASSWORD,
        "relay.target.sftp.known-hosts-file={{sys:test.sftp.known-hosts}}",
        "relay.target.sftp.dir=/inbox"
})
class SftpDeliveryRouteTest {
    private static final SftpServer SFTP;
    private static final Path ROOT;
    private static final CapturedLogs LOGS;

    static {
        try {
            Path base = Files.createDirectories(Path.of("target/test-sftp/sftp-delivery-route"));
            ROOT = Files.createTempDirectory(base, "root");
            SFTP = SftpServer.start(ROOT);
            Path knownHosts = Files.writeString(base.resolve("known_hosts-" + SFTP.port()), SFTP.knownHostsLine() + "\n");
            System.setProperty("test.sftp.port", String.valueOf(SFTP.port()));
            System.setProperty("test.sftp.known-hosts", knownHosts.toAbsolutePath().toString());
            LOGS = CapturedLogs.start();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;

    @AfterAll
    static void stopSftp() throws Exception {
        LOGS.close();
        SFTP.close();
        System.clearProperty("test.sftp.port");
        System.clearProperty("test.sftp.known-hosts");
    }

    @Test
    void exportIsDeliveredOverSftpWithTemporaryNamesAndTheReceiptLast() throws Exception {
        JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
        FhirBulkSandbox sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);

        ExportJob job = producer.requestBody("direct:kickoff-source", "bulk", ExportJob.class);
        await().atMost(Duration.ofSeconds(60)).until(() -> store.get(job.id()).state() == JobState.DELIVERED);

        Path folder = ROOT.resolve("inbox/bulk").resolve(job.id());
        JsonNode receipt = new ObjectMapper().readTree(folder.resolve("receipt.json").toFile());
        assertThat(receipt.path("files")).hasSize(4);
        for (JsonNode f : receipt.path("files")) {
            byte[] bytes = Files.readAllBytes(ROOT.resolve("inbox").resolve(f.path("key").asText()));
            String name = f.path("sourceUrl").asText().replaceAll(".*/", "").replaceAll("\\?.*", "");
            assertThat(bytes).as(name).isEqualTo(sandbox.content(name));
            assertThat(f.path("sha256").asText()).isEqualTo(S3TargetTest.sha256(bytes));
        }

        String dir = "/inbox/bulk/" + job.id() + "/";
        List<String> moves = SFTP.events().stream().filter(e -> e.startsWith("moved") && e.contains(job.id())).toList();
        assertThat(moves).hasSize(5).allMatch(e -> e.matches("moved " + dir + "(error/)?\\.[^/]+\\.part -> " + dir + ".+"));
        assertThat(moves.get(moves.size() - 1)).endsWith(dir + "receipt.json");
        // one delivery of the job: every temporary file opened once (a second, concurrent delivery would collide)
        assertThat(SFTP.events().stream().filter(e -> e.startsWith("open") && e.contains(job.id()))).hasSize(5)
                .doesNotHaveDuplicates();
        try (var files = Files.walk(folder)) {
            assertThat(files.filter(p -> p.getFileName().toString().endsWith(".part"))).isEmpty();
        }
        assertThat(LOGS.events()).isNotEmpty().noneMatch(e -> e.getFormattedMessage().contains(SftpServer.PASSWORD)
                || (e.getThrowableProxy() != null && e.getThrowableProxy().getMessage() != null
                && e.getThrowableProxy().getMessage().contains(SftpServer.PASSWORD)));
    }

    @Test
    void aMinuteLongOutageOfTheServerIsWaitedOut() throws Exception {
        JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
        FhirBulkSandbox sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
        ExportJob job = TargetOutage.exportThroughAMinuteDown(store, producer, "bulk", SFTP::stop, SFTP::restart,
                waiting -> assertThat(waiting.lastError()).containsIgnoringCase("sftp")
                        .doesNotContain(SftpServer.PASSWORD));

        Path folder = ROOT.resolve("inbox/bulk").resolve(job.id());
        JsonNode receipt = new ObjectMapper().readTree(folder.resolve("receipt.json").toFile());
        assertThat(receipt.path("files")).hasSize(4);
        for (JsonNode f : receipt.path("files")) {
            String name = f.path("sourceUrl").asText().replaceAll(".*/", "").replaceAll("\\?.*", "");
            assertThat(Files.readAllBytes(ROOT.resolve("inbox").resolve(f.path("key").asText()))).as(name)
                    .isEqualTo(sandbox.content(name));
        }
        // nothing reached the server while it was down: each file (and the receipt) written once, after it was back
        assertThat(SFTP.events().stream().filter(e -> e.startsWith("open") && e.contains(job.id()))).hasSize(5)
                .doesNotHaveDuplicates();
    }
}
