package org.healthexport.relay.deliver;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.KeyPair;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.sandbox.SandboxData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** SftpTarget against a real SFTP server (Apache MINA SSHD 2.19) in this JVM. */
class SftpTargetTest {
    @TempDir
    Path temp;
    private SftpServer server;
    private Path root;
    private Path knownHosts;

    @BeforeEach
    void startServer() throws Exception {
        root = Files.createDirectories(temp.resolve("server"));
        server = SftpServer.start(root);
        knownHosts = Files.writeString(temp.resolve("known_hosts"), server.knownHostsLine() + "\n");
    }

    @AfterEach
    void stopServer() throws Exception {
        server.close();
    }

    @Test
    void passwordLoginWritesATemporaryNameThenRenamesItCreatingFolders() throws Exception {
        SftpTarget target = new SftpTarget(passwordSettings("/exports/relay"));
        byte[] body = SandboxData.patients(5);

        target.put("bulk/job-1/Patient-1.ndjson", new ByteArrayInputStream(body), -1, "application/fhir+ndjson");

        Path delivered = root.resolve("exports/relay/bulk/job-1/Patient-1.ndjson");
        assertThat(Files.readAllBytes(delivered)).isEqualTo(body);
        assertThat(server.events()).containsExactly(
                "open /exports/relay/bulk/job-1/.Patient-1.ndjson.part",
                "moved /exports/relay/bulk/job-1/.Patient-1.ndjson.part -> /exports/relay/bulk/job-1/Patient-1.ndjson");
        try (var files = Files.list(delivered.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("Patient-1.ndjson");
        }
        assertThat(target.exists("bulk/job-1/Patient-1.ndjson")).isTrue();
        assertThat(target.exists("bulk/job-1/Other-1.ndjson")).isFalse();
        assertThat(target.locate("bulk/job-1/Patient-1.ndjson"))
                .isEqualTo("sftp://relay@127.0.0.1:" + server.port() + "/exports/relay/bulk/job-1/Patient-1.ndjson");
    }

    @Test
    void aRepeatedDeliveryReplacesTheFileUnderItsFinalName() throws Exception {
        SftpTarget target = new SftpTarget(passwordSettings("out"));
        target.put("job/receipt.json", stream("first, longer content"), -1, "application/json");
        target.put("job/receipt.json", stream("second"), -1, "application/json");

        assertThat(Files.readString(root.resolve("out/job/receipt.json"))).isEqualTo("second");
        try (var files = Files.list(root.resolve("out/job"))) {
            assertThat(files).hasSize(1);
        }
    }

    @Test
    void largeFileIsStreamedByteExact() throws Exception {
        SftpTarget target = new SftpTarget(passwordSettings(""));
        long size = 20L * 1024 * 1024;

        target.put("big/Observation-1.ndjson", SandboxData.bigNdjson(size), -1, "application/fhir+ndjson");

        assertThat(S3TargetTest.sha256(Files.readAllBytes(root.resolve("big/Observation-1.ndjson"))))
                .isEqualTo(S3TargetTest.sha256(SandboxData.bigNdjson(size).readAllBytes()));
    }

    @Test
    void keyLoginWithAPassphrase() throws Exception {
        JSch jsch = new JSch();
        KeyPair key = KeyPair.genKeyPair(jsch, KeyPair.ECDSA, 256);
        Path keyFile = temp.resolve("id_ecdsa");
        ByteArrayOutputStream pem = new ByteArrayOutputStream();
        key.writePrivateKey(pem, "key-Passphrase-9".getBytes(StandardCharsets.UTF_8));
        Files.write(keyFile, pem.toByteArray());
        ByteArrayOutputStream pub = new ByteArrayOutputStream();
        key.writePublicKey(pub, "relay");
        PublicKey publicKey = AuthorizedKeyEntry.parseAuthorizedKeyEntry(pub.toString(StandardCharsets.US_ASCII).trim())
                .resolvePublicKey(null, null, null);
        server.authorize(publicKey);

        SftpTarget target = new SftpTarget(new SftpSettings("127.0.0.1", server.port(), SftpServer.USER, null, keyFile,
                "key-Passphrase-9", knownHosts, true, "keyed", Duration.ofSeconds(5)));
        target.put("a/b.json", stream("{}"), -1, "application/json");

        assertThat(Files.readString(root.resolve("keyed/a/b.json"))).isEqualTo("{}");
    }

    @Test
    void anUnknownHostKeyIsRefusedWhenStrict() throws Exception {
        Files.writeString(knownHosts, "[127.0.0.1]:" + server.port() + " "
                + PublicKeyEntry.toString(SftpServer.newKeyPair().getPublic()) + "\n");
        SftpTarget changed = new SftpTarget(passwordSettings("x"));
        assertThatThrownBy(() -> changed.put("a.json", stream("{}"), -1, "application/json"))
                .isInstanceOf(IOException.class).hasMessageContaining("HostKey");

        Files.writeString(knownHosts, "");
        SftpTarget unknown = new SftpTarget(passwordSettings("x"));
        assertThatThrownBy(() -> unknown.put("a.json", stream("{}"), -1, "application/json"))
                .isInstanceOf(IOException.class).hasMessageContaining("UnknownHostKey");

        assertThat(server.events()).isEmpty();
        assertThat(root.resolve("x")).doesNotExist();
    }

    @Test
    void theCheckLogsInAndLooksUpTheFolderWithoutWriting() throws Exception {
        String server = "SFTP server relay@127.0.0.1:" + this.server.port() + " took the login, ";
        assertThat(new SftpTarget(passwordSettings("/exports/relay")).check())
                .isEqualTo(server + "/exports/relay is made by the first delivery");
        Files.createDirectories(root.resolve("exports/relay"));
        assertThat(new SftpTarget(passwordSettings("/exports/relay/")).check()).isEqualTo(server + "/exports/relay exists");
        assertThat(new SftpTarget(passwordSettings("")).check()).isEqualTo(server + "the login folder");
        assertThat(new SftpTarget(passwordSettings("/")).check()).isEqualTo(server + "/ exists");

        assertThat(this.server.events()).isEmpty();
        try (var files = Files.walk(root)) {
            assertThat(files.filter(Files::isRegularFile)).isEmpty();
        }
    }

    @Test
    void theCheckRefusesAnUnknownHostKeyAndAWrongPasswordWithoutTheSecret() throws Exception {
        Files.writeString(knownHosts, "");
        assertThatThrownBy(() -> new SftpTarget(passwordSettings("x")).check())
                .isInstanceOf(IOException.class).hasMessageContaining("UnknownHostKey");

        Files.writeString(knownHosts, server.knownHostsLine() + "\n");
        SftpTarget wrong = new SftpTarget(new SftpSettings("127.0.0.1", server.port(), SftpServer.USER,
                "not-the-Pa55-4410", null, null, knownHosts, true, "x", Duration.ofSeconds(5)));
        assertThatThrownBy(wrong::check).isInstanceOf(IOException.class)
                .hasMessageContaining("SFTP connection to 127.0.0.1:" + server.port())
                .satisfies(e -> assertThat(stackText(e)).doesNotContain("not-the-Pa55-4410"));
    }

    @Test
    void strictCheckingNeedsAKnownHostsFileAndTurningItOffIsAWarning() {
        assertThatThrownBy(() -> new SftpSettings("127.0.0.1", server.port(), SftpServer.USER, SftpServer.PASSWORD,
                null, null, temp.resolve("missing_known_hosts"), true, "", Duration.ofSeconds(5)))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("known-hosts-file");

        Logger logger = (Logger) LoggerFactory.getLogger(SftpTarget.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        try {
            new SftpTarget(new SftpSettings("127.0.0.1", server.port(), SftpServer.USER, SftpServer.PASSWORD, null,
                    null, temp.resolve("missing_known_hosts"), false, "", Duration.ofSeconds(5)));
        } finally {
            logger.detachAppender(logs);
        }
        assertThat(logs.list).anySatisfy(e -> {
            assertThat(e.getLevel().toString()).isEqualTo("WARN");
            assertThat(e.getFormattedMessage()).contains("strict-host-key-checking is off");
        });
        assertThat(logs.list).noneMatch(e -> e.getFormattedMessage().contains(SftpServer.PASSWORD));
    }

    @Test
    void anOutageSurfacesAsIOExceptionAndTheNextDeliveryReconnects() throws Exception {
        SftpTarget target = new SftpTarget(passwordSettings("out"));
        target.put("one.json", stream("1"), -1, "application/json");

        server.stop();
        assertThatThrownBy(() -> target.put("two.json", stream("2"), -1, "application/json"))
                .isInstanceOf(IOException.class)
                .satisfies(e -> assertThat(stackText(e)).doesNotContain(SftpServer.PASSWORD));

        server.restart();
        target.put("two.json", stream("2"), -1, "application/json");
        assertThat(Files.readString(root.resolve("out/two.json"))).isEqualTo("2");
    }

    @Test
    void aSourceFailureLeavesNoFileUnderTheFinalNameAndNoTemporaryFile() throws Exception {
        SftpTarget target = new SftpTarget(passwordSettings("out"));
        IOException cut = new IOException("source connection cut");
        InputStream content = new S3TargetTest.FailingAfter(SandboxData.bigNdjson(4L * 1024 * 1024), 1024 * 1024, cut);

        assertThatThrownBy(() -> target.put("job/Observation-1.ndjson", content, -1, "application/fhir+ndjson"))
                .isSameAs(cut);

        try (var files = Files.list(root.resolve("out/job"))) {
            assertThat(files).isEmpty();
        }
        List<String> events = server.events();
        assertThat(events).noneMatch(e -> e.startsWith("moved"));
        assertThat(events).contains("removed /out/job/.Observation-1.ndjson.part");
    }

    @Test
    void aRefusedPasswordIsNotInTheException() {
        SftpTarget target = new SftpTarget(new SftpSettings("127.0.0.1", server.port(), SftpServer.USER,
                "wrong-Secret-55", null, null, knownHosts, true, "", Duration.ofSeconds(5)));
        assertThatThrownBy(() -> target.put("a.json", stream("{}"), -1, "application/json"))
                .isInstanceOf(IOException.class).hasMessageContaining("Auth fail")
                .satisfies(e -> assertThat(stackText(e)).doesNotContain("wrong-Secret-55"));
    }

    private SftpSettings passwordSettings(String dir) {
        return new SftpSettings("127.0.0.1", server.port(), SftpServer.USER, SftpServer.PASSWORD, null, null,
                knownHosts, true, dir, Duration.ofSeconds(5));
    }

    private static InputStream stream(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String stackText(Throwable e) {
        StringWriter out = new StringWriter();
        e.printStackTrace(new PrintWriter(out));
        return out.toString();
    }
}
