package org.healthexport.relay.source.fhir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.healthexport.relay.job.JobFile;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.healthexport.relay.testing.JsonArbitraries.anyValue;
import static org.healthexport.relay.testing.JsonArbitraries.arrayOf;
import static org.healthexport.relay.testing.JsonArbitraries.objectWith;
import static org.healthexport.relay.testing.JsonArbitraries.text;
import static org.healthexport.relay.testing.JsonArbitraries.write;

/**
 * Complete-status manifests as a server may send them (fields missing, null, of the wrong type; odd types and
 * URLs; the same URL twice): parsing and planning give a plan or a {@link MalformedStatusException}, nothing
 * else, and a plan puts every URL once under its own key inside the job folder.
 */
class BulkManifestProperties {
    private static final String FOLDER = "s/j1";
    private final FhirBulkStatus status = new FhirBulkStatus(null, null, null, null, 1_000_000);

    @Provide
    Arbitrary<JsonNode> manifests() {
        Arbitrary<JsonNode> entry = objectWith(Map.of(
                "type", text("Patient", "Observation", "../../etc/passwd", "a/b", "a_b", "", " ", "Pat\u0000ient",
                        "Ω".repeat(200)),
                "url", text("https://fhir.example/f/1", "/f/2", "f/3", "https://other.example/f/1?sig=x",
                        "https://fhir.example/f/1 ", "http://[bad", "https://fhir.example/a b", "mailto:x", ""),
                "count", Arbitraries.oneOf(Arbitraries.longs().map(JsonNodeFactory.instance::numberNode), anyValue(0)),
                "continuesInFile", text("https://fhir.example/f/9")));
        Arbitrary<JsonNode> list = Arbitraries.oneOf(arrayOf(entry, 8), arrayOf(anyValue(1), 3));
        Map<String, Arbitrary<JsonNode>> fields = new LinkedHashMap<>();
        fields.put("transactionTime", text("2021-01-01T00:00:00Z", "2021-01-01", "yesterday"));
        fields.put("request", text("https://fhir.example/$export"));
        fields.put("requiresAccessToken", Arbitraries.of(true, false).map(JsonNodeFactory.instance::booleanNode));
        fields.put("output", list);
        fields.put("error", list);
        fields.put("outcome", list);
        fields.put("deleted", list);
        fields.put("link", arrayOf(objectWith(Map.of("relation", text("next", "self"), "url", text("https://x/2"))), 2));
        fields.put("extension", anyValue(2));
        return Arbitraries.oneOf(objectWith(fields), anyValue(2));
    }

    @Property(tries = 400)
    void anyJsonIsAPlanOrAClearError(@ForAll("manifests") JsonNode body) {
        BulkManifest manifest;
        try {
            manifest = status.parse(new ByteArrayInputStream(write(body).getBytes(StandardCharsets.UTF_8)));
        } catch (MalformedStatusException expected) {
            return;
        } catch (Exception other) {
            throw new AssertionError("parse threw " + other + " for " + write(body), other);
        }
        assertThat(manifest.output()).doesNotContainNull();
        assertThat(manifest.error()).doesNotContainNull();
        assertThat(manifest.deleted()).doesNotContainNull();
        List<JobFile> planned;
        try {
            planned = status.plan(BulkManifestTest.job(), FOLDER, manifest);
            FhirBulkStatus.details(manifest, null);
        } catch (MalformedStatusException expected) {
            return;
        } catch (RuntimeException other) {
            throw new AssertionError("plan threw " + other + " for " + write(body), other);
        }
        assertPlanIsSafe(manifest, planned);
    }

    /** Manifests that are well-formed but hostile: any type names, the same URL several times, many entries. */
    @Provide
    Arbitrary<BulkManifest> wellFormed() {
        Arbitrary<String> type = Arbitraries.oneOf(
                Arbitraries.of("Patient", "Observation", "a/b", "a_b", "a\\b", "a b", "../x", "..", ".", "x\u0000y",
                        "Ωmega", "_", "-"),
                Arbitraries.strings().all().ofMaxLength(300),
                Arbitraries.strings().withChars("P/._\\").ofMinLength(120).ofMaxLength(130));
        Arbitrary<String> url = Arbitraries.integers().between(1, 30).map(i -> "https://fhir.example/f/" + i);
        Arbitrary<BulkManifest.OutputFile> file = Combinators.combine(type.injectNull(0.1), url)
                .as((t, u) -> new BulkManifest.OutputFile(t, u, null, null));
        Arbitrary<List<BulkManifest.OutputFile>> files = file.list().ofMaxSize(40);
        return Combinators.combine(files, files, files)
                .as((o, e, d) -> new BulkManifest(null, null, null, o, e, d, null, null));
    }

    @Property(tries = 300)
    void everyUrlIsPlannedOnceUnderAKeyOfItsOwnInsideTheJobFolder(@ForAll("wellFormed") BulkManifest manifest) {
        List<JobFile> planned = status.plan(BulkManifestTest.job(), FOLDER, manifest);
        assertPlanIsSafe(manifest, planned);
    }

    private static void assertPlanIsSafe(BulkManifest manifest, List<JobFile> planned) {
        Set<String> keys = new HashSet<>();
        Set<String> urls = new HashSet<>();
        Set<Integer> seqs = new HashSet<>();
        for (JobFile f : planned) {
            assertThat(keys.add(f.targetKey())).as("key %s planned twice in %s", f.targetKey(), planned).isTrue();
            assertThat(urls.add(f.url())).as("url %s planned twice", f.url()).isTrue();
            assertThat(seqs.add(f.seq())).isTrue();
            assertThat(f.targetKey()).startsWith(FOLDER + "/");
            for (String segment : f.targetKey().substring(FOLDER.length() + 1).split("/", -1)) {
                assertThat(segment).isNotEmpty().isNotEqualTo(".").isNotEqualTo("..").doesNotStartWith(".")
                        .matches("[A-Za-z0-9._-]+").hasSizeLessThanOrEqualTo(255);
            }
        }
        // every distinct entry URL (as resolved) is planned: none lost to a duplicate key
        List<String> expected = new ArrayList<>();
        for (var list : List.of(manifest.output(), manifest.error(), manifest.deleted())) {
            for (BulkManifest.OutputFile f : list) {
                String u = URI.create("https://fhir.example/r4/jobs/1").resolve(f.url().trim()).toString();
                if (!expected.contains(u)) {
                    expected.add(u);
                }
            }
        }
        assertThat(planned).extracting(JobFile::url).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Property(tries = 200)
    void anyBytesAreAManifestOrAClearError(@ForAll byte[] body) throws IOException {
        try {
            BulkManifest m = status.parse(new ByteArrayInputStream(body));
            assertThat(m.output()).isNotNull();
        } catch (MalformedStatusException expected) {
            // the documented outcome; any other exception fails the property
        }
    }
}
