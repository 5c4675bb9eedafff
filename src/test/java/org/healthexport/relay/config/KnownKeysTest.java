package org.healthexport.relay.config;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class KnownKeysTest {
    final KnownKeys known = KnownKeys.packaged();

    @Test
    void aMisspeltKeyIsUnknownAndTheKeysBesideItAreNamed() {
        assertThat(known.unknown(List.of("relay.target.s3.path_style", "relay.target.s3.path-style",
                "relay.target.s3.sse", "relay.poll.batchsize", "camel.main.name", "relay.sources.any.thing")))
                .containsExactly("relay.poll.batchsize", "relay.target.s3.path_style");
        assertThat(known.near("relay.target.s3.path_style")).startsWith("keys of relay.target.s3.*: ")
                .contains("path-style").contains("kms-key-id").doesNotContain("sftp");
        assertThat(known.near("relay.nothing.at.all")).isEqualTo("see the README's configuration reference");
    }

    @Test
    void aSegmentWrittenAsAPlaceholderStandsForAnyOneSegment() {
        KnownKeys keys = KnownKeys.of(List.of("#relay.sandbox.<kind>.port = 0", "relay.poll.lease = 60s",
                "camel.server.port = {{relay.http.port:8080}}"));
        assertThat(keys.knows("relay.sandbox.oracle-health.port")).isTrue();
        assertThat(keys.knows("relay.sandbox.port")).isFalse();
        assertThat(keys.knows("relay.sandbox.a.b.port")).isFalse();
        assertThat(keys.knows("relay.http.port")).as("read in a placeholder").isTrue();
        assertThat(keys.knows("relay.poll.lease")).isTrue();
    }

    /** Else the relay would warn of a key it reads: every literal key in the code and the routes is documented. */
    @Test
    void everyKeyTheRelayReadsIsInItsApplicationProperties() throws IOException {
        Set<String> read = new TreeSet<>();
        Pattern literal = Pattern.compile("\"(relay\\.[a-z0-9.-]*[a-z0-9])\"");
        Pattern fallback = Pattern.compile("duration\\(\"[a-z.-]+\", \"([a-z.-]+)\"");
        Pattern placeholder = Pattern.compile("\\{\\{(relay\\.[a-z0-9.-]*[a-z0-9])");
        for (Path file : files(Path.of("src/main/java"), ".java")) {
            String code = Files.readString(file);
            collect(literal, code, "", read);
            collect(fallback, code, "relay.", read); // SourceConfig#duration's relay-wide key
        }
        for (Path file : files(Path.of("routes"), ".yaml")) {
            collect(placeholder, Files.readString(file), "", read);
        }
        assertThat(read).contains("relay.target.s3.bucket", "relay.healthex.pull-after", "relay.poll.batch-size");
        assertThat(known.unknown(read)).isEmpty();
    }

    private static void collect(Pattern pattern, String text, String prefix, Set<String> into) {
        Matcher m = pattern.matcher(text);
        while (m.find()) {
            into.add(prefix + m.group(1));
        }
    }

    private static List<Path> files(Path root, String suffix) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            return all.filter(p -> p.toString().endsWith(suffix)).toList();
        }
    }
}
