package org.healthexport.relay;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

class PackagedRoutesTest {
    @TempDir
    Path dir;

    @Test
    void listsTheJarsRouteFilesAsClasspathLocations() throws Exception {
        Path jar = jar("b.jar", "routes/poll.camel.yaml", "routes/deliver.camel.yaml", "routes/notes.txt",
                "routes/old/kickoff.camel.yaml", "other/x.camel.yaml", "org/healthexport/relay/RelayApplication.class");

        assertThat(PackagedRoutes.in(jar))
                .hasValue("classpath:routes/deliver.camel.yaml,classpath:routes/poll.camel.yaml");
    }

    @Test
    void theProjectsRouteFilesAreAllListedOnceTheyArePackaged() throws Exception {
        List<String> names;
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            names = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".camel.yaml")).sorted().toList();
        }
        Path jar = jar("relay.jar", names.stream().map(n -> "routes/" + n).toArray(String[]::new));

        assertThat(PackagedRoutes.in(jar).orElseThrow().split(","))
                .containsExactlyElementsOf(names.stream().map(n -> "classpath:routes/" + n).toList());
    }

    @Test
    void nothingWithoutRouteFiles() throws Exception {
        assertThat(PackagedRoutes.in(jar("empty.jar", "application.properties"))).isEmpty();
    }

    @Test
    void notFromAJarUnderTests() {
        // test classes are loaded from target/classes: Camel's pattern scan of a folder is cheap and stays
        assertThat(PackagedRoutes.ofRunningJar()).isEmpty();
    }

    private Path jar(String name, String... entries) throws IOException {
        Path jar = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(jar); ZipOutputStream zip = new ZipOutputStream(out)) {
            for (String entry : entries) {
                zip.putNextEntry(new ZipEntry(entry));
                zip.write("- route: {}\n".getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
        return jar;
    }
}
