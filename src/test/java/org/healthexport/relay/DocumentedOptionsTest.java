package org.healthexport.relay;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Configuration is data: every relay option a route reads ({@code {{relay.x:default}}}) is a documented property
 * in application.properties, with the route's default, and has a row in the README's options tables. An option
 * added to a route and to nothing else fails here.
 */
class DocumentedOptionsTest {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{(relay\\.[a-z0-9.-]+):([^}]*)}}");

    @Test
    void everyOptionOfTheRoutesIsDocumentedWithItsDefault() throws IOException {
        Map<String, String> options = routeOptions();
        assertThat(options).containsKeys("relay.poll.start-delay", "relay.workers");
        String properties = Files.readString(Path.of("application.properties"));
        String readme = Files.readString(Path.of("README.md"));
        for (Map.Entry<String, String> option : options.entrySet()) {
            String key = option.getKey();
            Matcher line = Pattern.compile("(?m)^#?" + Pattern.quote(key) + " = (.*)$").matcher(properties);
            assertThat(line.find()).as("%s in application.properties", key).isTrue();
            assertThat(line.group(1).trim()).as("the default of %s in application.properties", key)
                    .isEqualTo(option.getValue());
            assertThat(readme).as("%s in the README", key).contains("`" + key + "`");
        }
    }

    /** Each relay option the packaged routes read, with the default the route gives it. */
    private static Map<String, String> routeOptions() throws IOException {
        Map<String, String> options = new TreeMap<>();
        try (Stream<Path> routes = Files.list(Path.of("routes"))) {
            for (Path route : routes.filter(p -> p.toString().endsWith(".camel.yaml")).toList()) {
                Matcher m = PLACEHOLDER.matcher(Files.readString(route));
                while (m.find()) {
                    String before = options.putIfAbsent(m.group(1), m.group(2));
                    assertThat(before == null || before.equals(m.group(2)))
                            .as("%s has one default in every route", m.group(1)).isTrue();
                }
            }
        }
        return options;
    }
}
