package org.healthexport.relay;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The route files packaged in the relay's jar, as a list of {@code classpath:} locations. Camel resolves a
 * {@code classpath:routes/*.camel.yaml} pattern by reading the whole jar as a stream, twice at startup (about
 * 1 s each for the 45 MB shaded jar on this project's machine); the jar's own index of names lists them at once.
 */
final class PackagedRoutes {
    private static final String FOLDER = "routes/";
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
     * Read through {@link ZipFile}, which shares the index of names the class loader already read from the same
     * jar: 26-35 ms for the 28,000 entries in a fresh JVM here, against 101-126 ms for the zip file system, which
     * reads the index again (docs/benchmarks.md, stop 19).
     */
    static Optional<String> in(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            String list = zip.stream()
                    .map(ZipEntry::getName)
                    .filter(name -> name.startsWith(FOLDER)
                            && ROUTE_FILE.matcher(name.substring(FOLDER.length())).matches())
                    .sorted()
                    .map(name -> "classpath:" + name)
                    .collect(Collectors.joining(","));
            return list.isEmpty() ? Optional.empty() : Optional.of(list);
        }
    }
}
