package org.healthexport.relay.deliver;

import org.healthexport.relay.sandbox.SandboxData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * SftpTarget against OpenSSH's sshd, a server that is not ours (SftpTargetTest covers the same target against
 * Apache MINA SSHD in this JVM): an ed25519 host key checked strictly, ed25519 key login, OpenSSH's own
 * rename semantics. Skipped where OpenSSH's server is not installed; {@code .ci/run} installs it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenSshSftpTest {
    @TempDir
    static Path temp; // static: made before @BeforeAll starts the server
    private OpenSshServer server;
    private Path knownHosts;
    private Path out;

    @BeforeAll
    void startSshd() throws Exception {
        assumeTrue(OpenSshServer.installed(), "OpenSSH's sshd is not installed (apt-get install openssh-server)");
        server = OpenSshServer.start(Files.createDirectories(temp.resolve("sshd")));
        knownHosts = Files.writeString(temp.resolve("known_hosts"), server.knownHostsLine() + "\n");
        out = Files.createDirectories(temp.resolve("out"));
    }

    @AfterAll
    void stopSshd() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aLargeFileLandsByteExactUnderItsFinalNameWithNothingElseLeft() throws Exception {
        SftpTarget target = new SftpTarget(settings(server.clientKey(), "large"));
        long size = 24L * 1024 * 1024 + 77;

        target.put("bulk/job-1/Observation-1.ndjson", SandboxData.bigNdjson(size), size, "application/fhir+ndjson");

        Path delivered = out.resolve("large/bulk/job-1/Observation-1.ndjson");
        assertThat(Files.size(delivered)).isEqualTo(SandboxData.bigNdjson(size).readAllBytes().length);
        assertThat(Files.readAllBytes(delivered)).isEqualTo(SandboxData.bigNdjson(size).readAllBytes());
        try (Stream<Path> files = Files.list(delivered.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("Observation-1.ndjson");
        }
        assertThat(target.exists("bulk/job-1/Observation-1.ndjson")).isTrue();
        assertThat(target.exists("bulk/job-1/Patient-1.ndjson")).isFalse();
    }

    /** OpenSSH's plain SFTP rename refuses an existing name; a repeated delivery must still replace the file. */
    @Test
    void aRepeatedDeliveryReplacesTheFile() throws Exception {
        SftpTarget target = new SftpTarget(settings(server.clientKey(), "again"));
        target.put("job/receipt.json", stream("{\"first\":\"and longer\"}"), -1, "application/json");
        target.put("job/receipt.json", stream("{\"second\":1}"), -1, "application/json");

        assertThat(Files.readString(out.resolve("again/job/receipt.json"))).isEqualTo("{\"second\":1}");
        try (Stream<Path> files = Files.list(out.resolve("again/job"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("receipt.json");
        }
    }

    @Test
    void aHostKeyOtherThanTheKnownOneIsRefusedAndNothingIsWritten() throws Exception {
        Path other = OpenSshServer.newKeyPair(temp.resolve("other_host_key"));
        String[] otherKey = Files.readString(Path.of(other + ".pub")).trim().split(" ");
        Files.writeString(knownHosts, "[127.0.0.1]:" + server.port() + " " + otherKey[0] + " " + otherKey[1] + "\n");
        try {
            SftpTarget target = new SftpTarget(settings(server.clientKey(), "spoofed"));
            assertThatThrownBy(() -> target.put("a.json", stream("{}"), -1, "application/json"))
                    .isInstanceOf(IOException.class).hasMessageContaining("HostKey");
            assertThat(out.resolve("spoofed")).doesNotExist();
        } finally {
            Files.writeString(knownHosts, server.knownHostsLine() + "\n");
        }
    }

    @Test
    void aKeyTheServerDoesNotKnowIsRefused() throws Exception {
        Path stranger = OpenSshServer.newKeyPair(temp.resolve("stranger_ed25519"));
        SftpTarget target = new SftpTarget(settings(stranger, "stranger"));

        assertThatThrownBy(() -> target.put("a.json", stream("{}"), -1, "application/json"))
                .isInstanceOf(IOException.class).hasMessageContaining("Auth fail")
                .message().doesNotContain(stranger.toString());
        assertThat(out.resolve("stranger")).doesNotExist();
    }

    private SftpSettings settings(Path key, String dir) {
        return new SftpSettings("127.0.0.1", server.port(), server.user(), null, key, null, knownHosts, true,
                out.resolve(dir).toString(), Duration.ofSeconds(10));
    }

    private static ByteArrayInputStream stream(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }
}
