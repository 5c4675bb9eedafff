package org.healthexport.relay.deliver;

import org.healthexport.relay.sandbox.SandboxData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * "Whatever the file size" (issue 4): every target stores files of the sizes where its way of sending changes
 * byte-exact, with the count and SHA-256 the receipt records, whether the source announced the length or not.
 * For S3 those are the part size's edges (one PutObject, a streamed PUT, parts with a last part of one byte) and an
 * empty file (a Bulk Data type with no resources); real servers: S3Proxy and MINA SSHD in this JVM.
 */
class DeliverySizesTest {
    private static final int PART = 5 * 1024 * 1024;
    private static final String BUCKET = "sizes";

    @TempDir
    static Path temp;
    private static S3ProxyServer s3;
    private static S3Client check;
    private static SftpServer sftp;
    private static Path sftpRoot;
    private static Path folderRoot;
    private static Map<String, DeliveryTarget> targets;

    @BeforeAll
    static void startServers() throws Exception {
        s3 = S3ProxyServer.start();
        s3.createBucket(BUCKET);
        check = s3.client();
        sftpRoot = Files.createDirectories(temp.resolve("sftp"));
        sftp = SftpServer.start(sftpRoot);
        folderRoot = temp.resolve("folder");
        targets = Map.of(
                "s3", S3Target.create(new S3Settings(BUCKET, "us-east-1", s3.endpoint(), true,
                        S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY, "out/", null, null, null, PART, 2, true,
                        S3Settings.MAX_SINGLE_PUT)),
                "sftp", new SftpTarget(new SftpSettings("127.0.0.1", sftp.port(), SftpServer.USER,
                        SftpServer.PASSWORD, null, null, Files.writeString(temp.resolve("known_hosts"),
                        sftp.knownHostsLine() + "\n"), true, "out", Duration.ofSeconds(5))),
                "file", new FolderTarget(folderRoot));
    }

    @AfterAll
    static void stopServers() throws Exception {
        check.close();
        s3.close();
        sftp.close();
    }

    static Stream<Arguments> sizes() {
        return Stream.of("s3", "sftp", "file").flatMap(kind -> Stream.of(0, 1, PART - 1, PART, PART + 1, 2 * PART)
                .flatMap(size -> Stream.of(true, false).map(announced -> Arguments.of(kind, size, announced))));
    }

    @ParameterizedTest(name = "{0}: {1} bytes, length announced {2}")
    @MethodSource("sizes")
    void everySizeIsStoredByteExactWithItsCountAndSha256(String kind, int size, boolean announced) throws Exception {
        byte[] bytes = Arrays.copyOf(SandboxData.bigNdjson(size + 1024L).readAllBytes(), size);
        String key = "bulk/" + kind + "-" + size + "-" + announced + "/Observation-1.ndjson";

        DeliveryTarget.Stored stored = targets.get(kind).putMeasured(key, new ByteArrayInputStream(bytes),
                announced ? size : -1, "application/fhir+ndjson");

        assertThat(stored).isEqualTo(new DeliveryTarget.Stored(size, S3TargetTest.sha256(bytes)));
        assertThat(read(kind, key)).isEqualTo(bytes);
    }

    private static byte[] read(String kind, String key) throws Exception {
        return switch (kind) {
            case "s3" -> check.getObjectAsBytes(r -> r.bucket(BUCKET).key("out/" + key)).asByteArray();
            case "sftp" -> Files.readAllBytes(sftpRoot.resolve("out").resolve(key));
            default -> Files.readAllBytes(folderRoot.resolve(key));
        };
    }
}
