package org.healthexport.relay.deliver;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.healthexport.relay.config.ConfigurationException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keys from hostile values (resource types, ids, template values with ../, /, \, NUL, any Unicode, any length)
 * and from any template the startup check accepts: never outside the job folder or the target prefix, no empty or
 * dot segment, bounded lengths, the same key every time.
 */
class KeyLayoutProperties {
    private static final Set<String> KNOWN = Set.of("source", "jobId", "date", "orgId");
    private static final Path ROOT = Path.of("/srv/relay-out").toAbsolutePath().normalize();
    /** S3's key limit; a file name (with the ".part" of a folder delivery) must stay under 255 bytes. */
    private static final int MAX_KEY_BYTES = 1024;
    private static final int MAX_NAME_BYTES = 255;

    @Provide
    Arbitrary<String> hostile() {
        return Arbitraries.oneOf(
                Arbitraries.of("..", ".", "../..", "/", "\\", "..\\..\\x", "/etc/passwd", "a/../../b", "\u0000",
                        "x\u0000/..", "", " ", "~", "C:\\x", "%2e%2e%2f", "\u202e..", "．．／", "Ω", "😀", ".hidden"),
                Arbitraries.strings().all().ofMaxLength(40),
                Arbitraries.strings().withChars("./\\\u0000_-a").ofMaxLength(20),
                Arbitraries.strings().all().ofMinLength(200).ofMaxLength(5000));
    }

    @Provide
    Arbitrary<String> template() {
        Arbitrary<String> piece = Arbitraries.oneOf(
                Arbitraries.of("{source}", "{jobId}", "{date}", "{orgId}", "{unknown}", "exports", "a.b", "..", ".",
                        "", "\\", "\u0000", "x y", "~", ":", "-"),
                Arbitraries.strings().all().ofMaxLength(6));
        Arbitrary<String> separator = Arbitraries.of("/", "/", "", "//");
        return Combinators.combine(piece.list().ofMinSize(1).ofMaxSize(6), separator.list().ofSize(6), Arbitraries.of("", "/"))
                .as((pieces, seps, lead) -> {
                    StringBuilder sb = new StringBuilder(lead);
                    for (int i = 0; i < pieces.size(); i++) {
                        sb.append(i == 0 ? "" : seps.get(i)).append(pieces.get(i));
                    }
                    return sb.toString();
                });
    }

    @Property(tries = 300)
    void aValueIsOneSafeBoundedSegment(@ForAll("hostile") String value) {
        String segment = KeyLayout.segment(value);
        assertSafeSegment(segment);
        assertThat(segment).hasSizeLessThanOrEqualTo(120).isEqualTo(KeyLayout.segment(value));
    }

    @Property(tries = 500)
    void anAcceptedTemplateFilledWithAnyValuesStaysInsideThePrefix(@ForAll("template") String template,
                                                                    @ForAll("hostile") String source,
                                                                    @ForAll("hostile") String jobId,
                                                                    @ForAll("hostile") String orgId) {
        try {
            KeyLayout.validate("s", template, KNOWN);
        } catch (ConfigurationException refused) {
            return; // the relay does not start with it
        }
        Map<String, String> values = new HashMap<>(Map.of("source", source, "jobId", jobId, "orgId", orgId,
                "date", "2026-11-29"));
        String folder = KeyLayout.jobFolder(template, values);
        assertThat(KeyLayout.jobFolder(template, new HashMap<>(values))).isEqualTo(folder);
        assertThat(folder).doesNotStartWith("/");
        for (String segment : folder.split("/", -1)) {
            assertThat(segment).as("segment of %s from %s", folder, template).isNotEmpty().isNotIn(".", "..")
                    .doesNotContain("\\", "\u0000").doesNotMatch(".*\\p{Cntrl}.*");
        }
        Path resolved = ROOT.resolve(folder).normalize();
        assertThat(resolved.startsWith(ROOT) && !resolved.equals(ROOT)).as(folder).isTrue();
    }

    @Property(tries = 500)
    void aFileKeyStaysInItsJobFolderWithBoundedNames(@ForAll("hostile") String source, @ForAll("hostile") String jobId,
                                                     @ForAll("hostile") String group, @ForAll("hostile") String type,
                                                     @ForAll int n) {
        String folder = KeyLayout.jobFolder("exports/{source}/{date}/{jobId}",
                KeyLayout.commonValues(source, jobId, Instant.parse("2026-11-29T10:00:00Z")));
        String key = KeyLayout.fileKey(folder, group, type, Math.abs(n % 1_000_000), "ndjson");
        assertThat(key).startsWith(folder + "/").isEqualTo(KeyLayout.fileKey(folder, group, type,
                Math.abs(n % 1_000_000), "ndjson"));
        List<String> rest = List.of(key.substring(folder.length() + 1).split("/", -1));
        assertThat(rest).hasSizeBetween(1, 2);
        rest.forEach(KeyLayoutProperties::assertSafeSegment);
        Path jobFolder = ROOT.resolve(folder).normalize();
        Path file = ROOT.resolve(key).normalize();
        assertThat(file.startsWith(jobFolder) && !file.equals(jobFolder)).as(key).isTrue();
        assertThat(key.getBytes(StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(MAX_KEY_BYTES);
        String name = rest.get(rest.size() - 1);
        assertThat(("." + name + ".part").getBytes(StandardCharsets.UTF_8))
                .hasSizeLessThanOrEqualTo(MAX_NAME_BYTES);
    }

    private static void assertSafeSegment(String segment) {
        assertThat(segment).isNotEmpty().isNotIn(".", "..").doesNotStartWith(".").matches("[A-Za-z0-9._-]+");
    }
}
