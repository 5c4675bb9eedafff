package org.healthexport.relay;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The route files packaged in the relay's jar, as a list of {@code classpath:} locations. Camel resolves a
 * {@code classpath:routes/*.camel.yaml} pattern by reading the whole jar as a stream, twice at startup (about
 * 1 s each for the 45 MB shaded jar on this project's machine); the jar's own directory lists them at once.
 */
final class PackagedRoutes {
    private static final Pattern ROUTE_FILE = Pattern.compile("[^/]+\\.camel\\.yaml");

    private PackagedRoutes() {
    }

    /** The routes in the jar this class was loaded from; empty when it was not loaded from a jar (tests, IDE). */
    static Optional<String> ofRunningJar() {
        try {
            CodeSource source = PackagedRoutes.class.getProtectionDomain().getCodeSource();
            if (source == null) {
                return Optional.empty();
            }
            Path location = Path.of(source.getLocation().toURI());
            return Files.isRegularFile(location) ? in(location) : Optional.empty();
        } catch (IOException | URISyntaxException | IllegalArgumentException e) {
            return Optional.empty(); // Camel's own pattern scan still finds them
        }
    }

    /**
     * Comma-separated {@code classpath:routes/<name>.camel.yaml} of the jar's route files, sorted; empty if none.
     * Read through the zip file system, which lists one folder from its index of names: half the time of
     * making a {@code ZipEntry} of each of the 28,000 entries (0.3 s against 0.6 s in a fresh JVM here).
     */
    static Optional<String> in(Path jar) throws IOException {
        try (FileSystem zip = FileSystems.newFileSystem(jar)) {
            Path routes = zip.getPath("/routes");
            if (!Files.isDirectory(routes)) {
                return Optional.empty();
            }
            try (Stream<Path> files = Files.list(routes)) {
                String list = files.map(file -> file.getFileName().toString())
                        .filter(name -> ROUTE_FILE.matcher(name).matches())
                        .sorted()
                        .map(name -> "classpath:routes/" + name)
                        .collect(Collectors.joining(","));
                return list.isEmpty() ? Optional.empty() : Optional.of(list);
            }
        }
    }
}
