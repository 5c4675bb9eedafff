package org.healthexport.relay.deliver;

import org.healthexport.relay.sandbox.SandboxData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The folder target with the bad-input corpus of issue 8: nothing lands outside the job folder. */
class FolderTargetTest {
    @TempDir
    Path tmp;

    @Test
    void theCheckFindsTheFolderWritableUntilItIsGone() throws IOException {
        Path root = tmp.resolve("out");
        FolderTarget target = new FolderTarget(root);
        assertThat(target.check()).isEqualTo("folder " + root + " is a writable directory");

        Files.delete(root);
        Files.writeString(root, "a file where the folder was");
        assertThatThrownBy(target::check).isInstanceOf(IOException.class)
                .hasMessage("Folder " + root + " is not a writable directory");
    }

    @Test
    void hostileResourceTypesAndIdsAreWrittenInsideTheJobFolder() throws IOException {
        Path root = tmp.resolve("out");
        FolderTarget target = new FolderTarget(root);
        List<String> hostile = List.of("../../escaped", "/etc/passwd", "..\\..\\win", "a\u0000b", "..", ".",
                "x/../../../y", "Ω😀", "x".repeat(5000), ".hidden", "", "C:\\temp\\x");
        String folder = KeyLayout.jobFolder("{source}/{jobId}", KeyLayout.commonValues("../src",
                "../../job", Instant.parse("2026-11-29T10:00:00Z")));
        int n = 0;
        for (String type : hostile) {
            for (String group : new String[] {"output", "error", "../deleted"}) {
                String key = KeyLayout.fileKey(folder, group, type, ++n, "ndjson");
                target.put(key, new ByteArrayInputStream(type.getBytes(StandardCharsets.UTF_8)), -1, "application/fhir+ndjson");
            }
        }
        Path jobFolder = root.resolve(folder).normalize();
        try (Stream<Path> all = Files.walk(tmp)) {
            List<Path> files = all.filter(Files::isRegularFile).toList();
            assertThat(files).hasSize(hostile.size() * 3)
                    .allSatisfy(f -> assertThat(f.startsWith(jobFolder)).as(f.toString()).isTrue());
            assertThat(files).allSatisfy(f -> assertThat(f.getFileName().toString().length()).isLessThan(200));
        }
    }

    @Test
    void aRawKeyThatEscapesOrCannotBeAPathIsRefused() throws IOException {
        FolderTarget target = new FolderTarget(tmp.resolve("out"));
        for (String key : List.of("../x", "a/../../x", "/abs/../../x", "")) {
            assertThatThrownBy(() -> target.put(key, InputStreamOf.empty(), 0, "text/plain")).as(key)
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> target.put("a\u0000b", InputStreamOf.empty(), 0, "text/plain"))
                .isInstanceOf(InvalidPathException.class);
        try (Stream<Path> all = Files.walk(tmp)) {
            assertThat(all.filter(Files::isRegularFile)).isEmpty();
        }
    }

    /** Synced in stretches while it is written (here every 1 MiB): every byte lands, once, under the final name. */
    @Test
    void aFileSyncedInStretchesArrivesWholeAndNoPartIsLeft() throws Exception {
        FolderTarget target = new FolderTarget(tmp.resolve("out"), 1024 * 1024, false);
        putsNineMibWholeUnderItsFinalNameOnly(target);
    }

    /** relay.target.file.sync=false: through the page cache, unsynced, and still whole under its final name only. */
    @Test
    void withoutSyncAFileIsWrittenThroughThePageCacheAndArrivesWhole() throws Exception {
        FolderTarget target = new FolderTarget(tmp.resolve("out"), false);
        assertThat(target.syncs()).isFalse();
        assertThat(target.directIo()).isFalse();
        putsNineMibWholeUnderItsFinalNameOnly(target);
        assertThat(new FolderTarget(tmp.resolve("out")).syncs()).isTrue();
    }

    /** Writes 9 MiB and a bit through {@code target}: the bytes arrive exactly, and no temporary file is left. */
    private void putsNineMibWholeUnderItsFinalNameOnly(FolderTarget target) throws Exception {
        long size = 9L * 1024 * 1024 + 77;
        target.put("bulk/j1/Observation-1.ndjson", SandboxData.bigNdjson(size), -1,
                "application/fhir+ndjson");

        Path file = tmp.resolve("out/bulk/j1/Observation-1.ndjson");
        assertThat(S3TargetTest.sha256(Files.readAllBytes(file)))
                .isEqualTo(S3TargetTest.sha256(SandboxData.bigNdjson(size).readAllBytes()));
        try (Stream<Path> all = Files.list(file.getParent())) {
            assertThat(all.map(p -> p.getFileName().toString())).containsExactly("Observation-1.ndjson");
        }
    }

    /** A source cut midway leaves nothing under the final name, nor a temporary file, whatever was synced. */
    @Test
    void aSourceCutAfterSeveralSyncsLeavesNothing() throws Exception {
        FolderTarget target = new FolderTarget(tmp.resolve("out"), 1024 * 1024, false);
        InputStream cut = new S3TargetTest.FailingAfter(
                SandboxData.bigNdjson(8L * 1024 * 1024), 5L * 1024 * 1024, new IOException("cut"));

        assertThatThrownBy(() -> target.put("bulk/j1/Observation-1.ndjson", cut, -1, "application/fhir+ndjson"))
                .hasMessageContaining("cut");
        try (Stream<Path> all = Files.walk(tmp.resolve("out"))) {
            assertThat(all.filter(Files::isRegularFile)).isEmpty();
        }
    }

    /**
     * Direct I/O writes whole aligned blocks: a file whose length is no multiple of the block, of the buffer or of
     * anything arrives with its exact length and bytes (the padded last block cut back), and no part is left.
     */
    @ParameterizedTest
    @ValueSource(longs = {0, 1, 4095, 4096, 4097, 256 * 1024 + 3, 1024 * 1024, 1024 * 1024 + 1, 9L * 1024 * 1024 + 77})
    void directWritesArriveWithTheirExactLengthAndBytes(long size) throws Exception {
        FolderTarget target = new FolderTarget(tmp.resolve("out"));
        assumeTrue(target.directIo(), "the test's temporary folder has no direct I/O");
        byte[] bytes = new byte[(int) size];
        new Random(size).nextBytes(bytes);
        target.put("bulk/j1/Observation-1.ndjson", new ByteArrayInputStream(bytes), -1, "application/fhir+ndjson");

        Path file = tmp.resolve("out/bulk/j1/Observation-1.ndjson");
        assertThat(Files.size(file)).isEqualTo(size);
        assertThat(Files.readAllBytes(file)).isEqualTo(bytes);
        try (Stream<Path> all = Files.list(file.getParent())) {
            assertThat(all.map(p -> p.getFileName().toString())).containsExactly("Observation-1.ndjson");
        }
    }

    @Test
    void aSourceCutDuringDirectWritesLeavesNothing() throws Exception {
        FolderTarget target = new FolderTarget(tmp.resolve("out"));
        assumeTrue(target.directIo(), "the test's temporary folder has no direct I/O");
        InputStream cut = new S3TargetTest.FailingAfter(SandboxData.bigNdjson(8L * 1024 * 1024),
                3L * 1024 * 1024 + 5, new IOException("cut"));

        assertThatThrownBy(() -> target.put("bulk/j1/Observation-1.ndjson", cut, -1, "application/fhir+ndjson"))
                .hasMessageContaining("cut");
        try (Stream<Path> all = Files.walk(tmp.resolve("out"))) {
            assertThat(all.filter(Files::isRegularFile)).isEmpty();
        }
    }

    /** Where the probe cannot write its block, the folder counts as one without direct I/O (alignment 0). */
    @Test
    void aFolderWhereTheDirectIoProbeCannotWriteHasNoDirectIo() {
        assertThat(FolderTarget.directIoAlignment(tmp.resolve("no-such-folder"))).isZero();
    }

    private static final class InputStreamOf {
        static InputStream empty() {
            return new ByteArrayInputStream(new byte[0]);
        }
    }
}
