package org.healthexport.relay.config;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The keys the relay reads in one scope: its own {@code relay.*} keys, as the packaged {@code application.properties}
 * documents them (set, commented out as an example, {@code #relay.target.s3.sse = aws:kms}, or read in a placeholder,
 * {@code {{relay.http.port:8080}}}), or one source's {@code relay.sources.<id>.*} keys, as its kind declares them. A
 * key given in the scope that is none of them is most likely a typo, which every read would take for "unset"
 * ({@code relay.target.s3.path_style} leaves path-style off). In the file, a segment written {@code <kind>} stands for
 * any one segment.
 */
public final class KnownKeys {
    private static final String PACKAGED = "application.properties";
    private static final Pattern KEY_LINE = Pattern.compile("^#?\\s*(relay\\.[A-Za-z0-9._<>-]+)\\s*[=:]");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{(relay\\.[A-Za-z0-9._-]+)");
    private static final String SOURCES = "relay.sources.";

    private final String scope;
    private final String owner;
    private final Set<String> keys;
    private final List<Pattern> patterns;

    private KnownKeys(String scope, String owner, Collection<String> documented) {
        this.scope = scope;
        this.owner = owner;
        this.keys = new TreeSet<>(documented);
        this.patterns = documented.stream().filter(k -> k.contains("<"))
                .map(k -> Pattern.compile(Pattern.quote(k).replaceAll("<[^>]+>", "\\\\E[^.]+\\\\Q")))
                .toList();
    }

    /** The relay's keys, as the packaged {@code application.properties} names them; a source's are its kind's. */
    public static KnownKeys packaged() {
        InputStream in = KnownKeys.class.getClassLoader().getResourceAsStream(PACKAGED);
        if (in == null) {
            throw new IllegalStateException(PACKAGED + " is not on the class path");
        }
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            return of(reader.lines().toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The keys named in these lines of a properties file. */
    static KnownKeys of(List<String> lines) {
        Set<String> documented = new TreeSet<>();
        for (String line : lines) {
            Matcher key = KEY_LINE.matcher(line);
            if (key.find()) {
                documented.add(key.group(1));
            }
            Matcher placeholder = PLACEHOLDER.matcher(line);
            while (placeholder.find()) {
                documented.add(placeholder.group(1));
            }
        }
        return new KnownKeys("relay.", "the relay", documented);
    }

    /** The keys of source {@code id} of {@code kind}: {@code names} under {@code relay.sources.<id>.}. */
    public static KnownKeys ofSource(String id, String kind, Collection<String> names) {
        String prefix = SOURCES + id + ".";
        return new KnownKeys(prefix, "a " + kind + " source", names.stream().map(n -> prefix + n).toList());
    }

    /** Whose keys these are, for a message: "the relay", "a healthex source". */
    public String owner() {
        return owner;
    }

    public boolean knows(String key) {
        return keys.contains(key) || patterns.stream().anyMatch(p -> p.matcher(key).matches())
                || scope.equals("relay.") && key.startsWith(SOURCES);
    }

    /** Whether {@code name} is the environment variable of one of these keys. */
    public boolean knowsVariable(String name) {
        return keys.stream().anyMatch(k -> variable(k).equals(name));
    }

    /** What every variable of this scope begins with: {@code RELAY_SOURCES_ACME_} for source {@code acme}. */
    public String variablePrefix() {
        return variable(scope);
    }

    /**
     * The variables of {@code names} that begin as one of {@code scopes}' variables do but give none of its keys,
     * each with the scope it was checked against: the one with the longest such prefix (source {@code acme-eu}'s
     * {@code RELAY_SOURCES_ACME_EU_BASE_URL} is not source {@code acme}'s key {@code eu.base-url}).
     */
    public static Map<String, KnownKeys> unknownVariables(Collection<KnownKeys> scopes, Collection<String> names) {
        Map<String, KnownKeys> unknown = new TreeMap<>();
        for (String name : names) {
            scopes.stream().filter(s -> name.startsWith(s.variablePrefix()))
                    .max(Comparator.comparingInt(s -> s.variablePrefix().length()))
                    .filter(scope -> !scope.knowsVariable(name))
                    .ifPresent(scope -> unknown.put(name, scope));
        }
        return unknown;
    }

    /** A key's environment variable, as Camel looks it up: upper-cased, '.' and '-' as '_'. */
    static String variable(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** The given keys in this scope that the relay does not know, sorted. */
    public List<String> unknown(Collection<String> given) {
        return given.stream().filter(k -> k.startsWith(scope) && !knows(k)).sorted().distinct().toList();
    }

    /** What an unknown key may have meant: the documented keys beside it ({@code relay.target.s3.*}). */
    public String near(String key) {
        String parent = key.substring(0, Math.max(key.lastIndexOf('.'), 0) + 1);
        String siblings = keys.stream().filter(k -> !parent.isEmpty() && k.startsWith(parent)
                        && k.indexOf('.', parent.length()) < 0)
                .map(k -> k.substring(parent.length())).collect(Collectors.joining(", "));
        return siblings.isEmpty() ? "see the README's configuration reference" : "keys of " + parent + "*: " + siblings;
    }
}
