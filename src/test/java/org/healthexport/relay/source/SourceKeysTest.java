package org.healthexport.relay.source;

import org.healthexport.relay.config.KnownKeys;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.source.fhir.FhirBulkKickoff;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The keys a source of each kind may be given ({@link SourceConfig#SHARED_KEYS} and the kind's own): a key missing
 * there would be named at every start as misspelt, so each key the code reads is checked to be in them.
 */
class SourceKeysTest {
    /** A key read from a source: {@code source.property("page-size")}, {@code flag(id, 'delete-after-delivery', true)}. */
    static final Pattern READ = Pattern.compile("\\b(property|requireProperty|flag|optionalFlag|intProperty|duration"
            + "|secret|optionalSecret)\\((?:[A-Za-z${}.]+, )?[\"']([a-z][a-z.-]*[a-z])[\"']");
    static final Path SOURCES = Path.of("src/main/java/org/healthexport/relay/source");

    @Test
    void aMisspeltKeyOfASourceIsUnknownAndTheKeysBesideItAreNamed() {
        KnownKeys fhirBulk = SourceKinds.get("fhir-bulk").knownKeys("acme");
        assertThat(fhirBulk.unknown(List.of("relay.sources.acme.paralel-downloads", "relay.sources.acme.export",
                "relay.sources.acme.auth.client-id", "relay.sources.acme.auth.clientid", "relay.sources.acme.lenient",
                "relay.sources.acme-2.whatever", "relay.poll.lease")))
                .containsExactly("relay.sources.acme.auth.clientid", "relay.sources.acme.lenient",
                        "relay.sources.acme.paralel-downloads");
        assertThat(fhirBulk.near("relay.sources.acme.auth.clientid")).startsWith("keys of relay.sources.acme.auth.*: ")
                .contains("client-id");
        assertThat(fhirBulk.near("relay.sources.acme.paralel-downloads")).contains("parallel-downloads");
        assertThat(SourceKinds.get("oracle-health").knownKeys("o").unknown(List.of("relay.sources.o.lenient"))).isEmpty();
    }

    @Test
    void aSourcesVariableIsCheckedAgainstTheSourceWhoseNameItBeginsWithTheLongest() {
        KnownKeys acme = SourceKinds.get("fhir-bulk").knownKeys("acme");
        KnownKeys acmeEu = SourceKinds.get("healthex").knownKeys("acme-eu");
        assertThat(acmeEu.variablePrefix()).isEqualTo("RELAY_SOURCES_ACME_EU_");
        assertThat(acme.knowsVariable("RELAY_SOURCES_ACME_AUTH_CLIENT_SECRET_FILE")).isTrue();
        Map<String, KnownKeys> unknown = KnownKeys.unknownVariables(List.of(acme, acmeEu), List.of(
                "RELAY_SOURCES_ACME_BASE_URL", "RELAY_SOURCES_ACME_BASEURL", "RELAY_SOURCES_ACME_EU_PROJECT_ID",
                "RELAY_SOURCES_ACME_EU_EXPORT", "RELAY_SOURCES_OTHER_BASEURL", "RELAY_TARGET_S3_BUCKET"));
        assertThat(unknown).containsOnlyKeys("RELAY_SOURCES_ACME_BASEURL", "RELAY_SOURCES_ACME_EU_EXPORT");
        assertThat(unknown.get("RELAY_SOURCES_ACME_EU_EXPORT").owner()).isEqualTo("a healthex source");
    }

    /** Code outside a kind's package reads keys for every kind; a kind's package, for its own sources. */
    @Test
    void everyKeyTheCodeReadsFromASourceIsOneItMayBeGiven() throws IOException {
        Set<String> shared = new TreeSet<>();
        try (Stream<Path> files = Stream.concat(Files.walk(Path.of("src/main/java")), Files.walk(Path.of("routes")))) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                if (!file.startsWith(SOURCES) || file.getParent().equals(SOURCES)) {
                    reads(file, shared);
                }
            }
        }
        assertThat(shared).contains("parallel-downloads", "delete-after-delivery", "auth.client-secret-file");
        Set<String> sharedAndKickoff = new HashSet<>(SourceConfig.SHARED_KEYS);
        sharedAndKickoff.addAll(FhirBulkKickoff.KEYS); // read for the kinds that extend it
        assertThat(sharedAndKickoff).containsAll(shared);
        for (SourceKind kind : SourceKinds.all()) {
            Path dir = Path.of("src/main/java", kind.getClass().getPackageName().replace('.', '/'));
            Set<String> own = new TreeSet<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path file : files.toList()) {
                    reads(file, own);
                }
            }
            assertThat(kind.knownKeys("s").unknown(own.stream().map(key -> "relay.sources.s." + key).toList()))
                    .as(kind.name()).isEmpty();
        }
    }

    /** The examples in the README and docs/ (and application.properties' commented ones) give no key nothing reads. */
    @Test
    void theDocumentedExamplesGiveOnlyKeysTheRelayReads() throws IOException {
        Pattern line = Pattern.compile("(?m)^[#\\s]*(relay\\.[a-z0-9.<>-]*[a-z0-9])\\s*=\\s*(\\S*)");
        List<Path> files = new ArrayList<>(List.of(Path.of("README.md"), Path.of("application.properties")));
        try (Stream<Path> docs = Files.list(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).forEach(files::add);
        }
        KnownKeys relay = KnownKeys.packaged();
        long sourceKeys = 0;
        for (Path file : files) {
            Map<String, String> given = new LinkedHashMap<>();
            Matcher m = line.matcher(Files.readString(file));
            while (m.find()) {
                given.put(m.group(1), m.group(2));
            }
            assertThat(relay.unknown(given.keySet())).as(file.toString()).isEmpty();
            for (Map.Entry<String, String> kind : given.entrySet()) {
                Matcher id = Pattern.compile("relay\\.sources\\.([^.]+)\\.kind").matcher(kind.getKey());
                if (id.matches()) {
                    KnownKeys known = SourceKinds.get(kind.getValue()).knownKeys(id.group(1));
                    sourceKeys += given.keySet().stream()
                            .filter(k -> k.startsWith("relay.sources." + id.group(1) + ".")).count();
                    assertThat(known.unknown(given.keySet())).as(file.toString()).isEmpty();
                }
            }
        }
        assertThat(sourceKeys).as("source keys checked").isGreaterThan(40);
    }

    /** The Kubernetes manifests configure by environment variables, which the start does not check: this does. */
    @Test
    void everyVariableTheKubernetesManifestsSetIsOneOfAKeyTheRelayReads() throws IOException {
        // a variable with its value, or one taken from a secret (valueFrom)
        Pattern variable = Pattern.compile("- name: (RELAY_[A-Z0-9_]+)(?:\\s+value: \"?([^\"\\s]*))?");
        Map<String, String> set = new LinkedHashMap<>();
        try (Stream<Path> files = Files.walk(Path.of("k8s"))) {
            for (Path file : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
                Matcher v = variable.matcher(Files.readString(file));
                while (v.find()) {
                    set.put(v.group(1), v.group(2) == null ? "" : v.group(2));
                }
            }
        }
        assertThat(set).containsEntry("RELAY_SOURCES_ACME_KIND", "fhir-bulk").containsKey("RELAY_TARGET_S3_BUCKET");
        KnownKeys relay = KnownKeys.packaged();
        for (String name : set.keySet()) {
            Matcher source = Pattern.compile("RELAY_SOURCES_([A-Z0-9]+)_.+").matcher(name);
            KnownKeys known = source.matches()
                    ? SourceKinds.get(set.get("RELAY_SOURCES_" + source.group(1) + "_KIND"))
                            .knownKeys(source.group(1).toLowerCase(Locale.ROOT))
                    : relay;
            assertThat(known.knowsVariable(name)).as(name).isTrue();
        }
    }

    private static void reads(Path file, Set<String> into) throws IOException {
        Matcher m = READ.matcher(Files.readString(file));
        while (m.find()) {
            into.add(m.group(2));
            if (m.group(1).endsWith("ecret")) { // SourceAuth#secret: the value, or the file named by <key>-file
                into.add(m.group(2) + "-file");
            }
        }
    }
}
