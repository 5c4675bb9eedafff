package org.healthexport.relay.deliver;

import org.healthexport.relay.config.ConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Path templates are checked at startup, and every value put into a key is one safe segment. */
class KeyLayoutTest {
    private static final Set<String> KNOWN = Set.of("source", "jobId", "date", "type", "orgId", "externalId");

    @ParameterizedTest
    @ValueSource(strings = {"{source}/{jobId}", "{source}/{date}/{jobId}", "exports/{orgId}/{externalId}/{jobId}",
            "{source}", "fixed-folder", "a.b/{date}_{jobId}", "exports/date={date}/{jobId}"})
    void validTemplatesAreAccepted(String template) {
        assertThatCode(() -> KeyLayout.validate("s1", template, KNOWN)).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"../{jobId}", "{source}/../../etc", "{source}/..", "..", "./{jobId}", "{source}/./{jobId}",
            "/{source}/{jobId}", "/", "{source}//{jobId}", "{source}/", "", "{source}\\{jobId}", "..\\{jobId}",
            "a\u0000/{jobId}", "exports /{jobId}", "é/{jobId}", "{source}:{jobId}", "{}/{jobId}"})
    void templatesThatCouldEscapeThePrefixAreRefused(String template) {
        assertThatThrownBy(() -> KeyLayout.validate("s1", template, KNOWN))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("s1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{source}/{patient}", "{Source}/{jobId}", "{projectId}/{jobId}", "{source}/{jobid}"})
    void unknownPlaceholdersAreRefused(String template) {
        assertThatThrownBy(() -> KeyLayout.validate("s1", template, KNOWN))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("is not one of");
    }

    @ParameterizedTest
    @ValueSource(strings = {"../../etc/passwd", "..", ".", "/", "\\", "a/b", "a\\b", "..\\..\\x", "nul\u0000byte",
            "line\nbreak", "tab\there", " spaces ", "ümlaut", "emoji\uD83D\uDE00", ".hidden", "....", "a/../b",
            "%2e%2e%2f", "C:\\Windows", "\u202Eevil", ""})
    void anyValueBecomesOneSafeSegment(String value) {
        String segment = KeyLayout.segment(value);
        assertSafe(segment);
    }

    @Test
    void safeCharactersAreKeptAndTheRestReplaced() {
        assertThat(KeyLayout.segment("Patient-1.v2_final")).isEqualTo("Patient-1.v2_final");
        assertThat(KeyLayout.segment("../../etc/passwd")).isEqualTo("_.._etc_passwd");
        assertThat(KeyLayout.segment("a\\b")).isEqualTo("a_b");
        assertThat(KeyLayout.segment("nul\u0000")).isEqualTo("nul_");
        assertThat(KeyLayout.segment("..")).isEqualTo("_");
        assertThat(KeyLayout.segment(".hidden")).isEqualTo("hidden");
    }

    @Test
    void veryLongValuesAreCut() {
        assertThat(KeyLayout.segment("x".repeat(10_000))).hasSize(120);
        assertThat(KeyLayout.segment("/".repeat(10_000))).hasSize(120).matches("_+");
    }

    @Test
    void randomValuesNeverProduceAnUnsafeSegment() {
        Random random = new Random(20261129L);
        String alphabet = "./\\\u0000\n\r\t :*?\"<>|%~abcXYZ019-_é\u202E";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder value = new StringBuilder();
            int length = random.nextInt(300);
            for (int k = 0; k < length; k++) {
                value.append(random.nextInt(10) == 0 ? (char) random.nextInt(0x3000)
                        : alphabet.charAt(random.nextInt(alphabet.length())));
            }
            assertSafe(KeyLayout.segment(value.toString()));
        }
    }

    @Test
    void jobFolderFillsEveryPlaceholderWithASanitisedValue() {
        Map<String, String> values = Map.of("source", "acme", "jobId", "../../root", "orgId", "org/1");
        assertThat(KeyLayout.jobFolder("exports/{orgId}/{source}/{jobId}", values))
                .isEqualTo("exports/org_1/acme/_.._root");
        assertThat(KeyLayout.jobFolder("{source}/{externalId}", values)).isEqualTo("acme/unknown");
    }

    @Test
    void commonValuesAndFileKeys() {
        Map<String, String> values = KeyLayout.commonValues("acme", "job-1", Instant.parse("2026-03-04T23:59:00Z"));
        assertThat(KeyLayout.jobFolder("{source}/{date}/{jobId}", values)).isEqualTo("acme/2026-03-04/job-1");
        assertThat(KeyLayout.fileKey("acme/job-1", "output", "Patient", 1, "ndjson")).isEqualTo("acme/job-1/Patient-1.ndjson");
        assertThat(KeyLayout.fileKey("acme/job-1", "error", "../Outcome", 2, "ndjson"))
                .isEqualTo("acme/job-1/error/_Outcome-2.ndjson");
    }

    private static void assertSafe(String segment) {
        assertThat(segment).isNotEmpty().hasSizeLessThanOrEqualTo(120).matches("[A-Za-z0-9._-]+")
                .doesNotStartWith(".").isNotEqualTo("..");
    }
}
