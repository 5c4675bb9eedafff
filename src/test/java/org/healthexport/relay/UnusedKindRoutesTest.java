package org.healthexport.relay;

import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.util.AntPathMatcher;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.source.SourceKind;
import org.healthexport.relay.source.SourceKinds;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class UnusedKindRoutesTest {
    static final Path ROUTES = Path.of("routes");
    static final List<String> KINDS = SourceKinds.all().stream().map(SourceKind::name).toList();

    static RelayProperties properties(Map<String, String> settings) {
        DefaultCamelContext context = new DefaultCamelContext();
        Properties p = new Properties();
        p.putAll(settings);
        context.getPropertiesComponent().setInitialProperties(p);
        return new RelayProperties(context);
    }

    @Test
    void theKindsOfTheConfiguredSourcesAreUsedOrTheDemosWhenNoneIs() {
        assertThat(UnusedKindRoutes.usedKinds(properties(Map.of("relay.sources.hx.kind", "healthex",
                "relay.sources.cerner.kind", "oracle-health", "relay.sources.cerner2.kind", "oracle-health"))))
                .containsExactlyInAnyOrder("healthex", "oracle-health");
        assertThat(UnusedKindRoutes.usedKinds(properties(Map.of()))).containsExactly("fhir-bulk");
        assertThat(UnusedKindRoutes.usedKinds(properties(Map.of("relay.demo.enabled", "false")))).isEmpty();
    }

    @Test
    void thePatternLeavesOutExactlyTheUnusedKindsFilesWhereverTheRoutesAreRead() {
        Set<String> unused = UnusedKindRoutes.unused(KINDS, Set.of("fhir-bulk", "redox-bulk"));
        assertThat(unused).containsExactly("ehealth-jobs", "healthex", "oracle-health");
        String[] excludes = UnusedKindRoutes.excludePattern(unused).orElseThrow().split(",");
        // matched as Camel's route collector matches its exclude patterns against each file's location
        for (String location : List.of("classpath:routes/healthex.camel.yaml", "file:routes/healthex.camel.yaml",
                "file:/relay/routes/oracle-health.camel.yaml", "classpath:routes/ehealth-jobs.camel.yaml")) {
            assertThat(AntPathMatcher.INSTANCE.anyMatch(excludes, location)).as(location).isTrue();
        }
        for (String location : List.of("classpath:routes/fhir-bulk.camel.yaml", "file:routes/redox-bulk.camel.yaml",
                "classpath:routes/poll.camel.yaml", "file:routes/my-healthex.camel.yaml")) {
            assertThat(AntPathMatcher.INSTANCE.anyMatch(excludes, location)).as(location).isFalse();
        }
        assertThat(UnusedKindRoutes.excludePattern(UnusedKindRoutes.unused(KINDS, new HashSet<>(KINDS)))).isEmpty();
    }

    /** What makes leaving a file out safe: only that kind's own file names its endpoints. */
    @Test
    void eachKindHasARouteFileAndNoOtherFileNamesItsEndpoints() throws IOException {
        Pattern from = Pattern.compile("from:\\s*\\n\\s*uri:\\s*\"?(direct:[\\w-]+)");
        for (String kind : KINDS) {
            Path own = ROUTES.resolve(kind + ".camel.yaml");
            assertThat(own).as(kind).isRegularFile();
            Matcher m = from.matcher(Files.readString(own));
            Set<String> endpoints = new HashSet<>();
            while (m.find()) {
                endpoints.add(m.group(1));
            }
            assertThat(endpoints).as(kind).contains("direct:status-" + kind);
            try (Stream<Path> files = Files.list(ROUTES)) {
                for (Path other : files.filter(f -> !f.equals(own)).toList()) {
                    String text = Files.readString(other);
                    assertThat(endpoints).as(other + " names none of " + kind + "'s endpoints")
                            .noneMatch(endpoint -> text.matches("(?s).*" + Pattern.quote(endpoint) + "\\b(?!-).*"));
                }
            }
        }
    }
}
