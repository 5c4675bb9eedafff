package org.healthexport.relay.config;

import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One configured source ({@code relay.sources.<id>.*}). The keys every kind shares are typed here; a kind's own
 * keys are read with {@link #property(String)}.
 */
public final class SourceConfig {
    /** The switches shared code reads for every kind; a kind checks its own when it binds. */
    public static final Set<String> SHARED_FLAGS = Set.of(
            "kickoff-on-start", "single-export", "queue-when-busy", "delete-after-delivery", "redirects-anywhere");
    /**
     * The keys shared code reads for a source of any kind (the poll loop, kick-off schedules, downloads, the layout,
     * tokens), its switches among them; a kind adds its own ({@code SourceKind#keys}).
     */
    public static final Set<String> SHARED_KEYS = Stream.concat(SHARED_FLAGS.stream(), Stream.of("kind", "base-url",
            "allowed-hosts", "path", "schedule", "schedule-zone", "export-lock", "parallel-downloads", "deadline",
            "poll.initial-wait", "poll.min-wait", "poll.max-wait", "auth.mode", "auth.token", "auth.token-file",
            "auth.token-url", "auth.client-id", "auth.client-secret", "auth.client-secret-file", "auth.secret-in",
            "auth.scope", "auth.private-key-file", "auth.key-id", "auth.algorithm"))
            .collect(Collectors.toUnmodifiableSet());

    private final String id;
    private final String prefix;
    private final RelayProperties properties;
    private final String kind;
    private final URI baseUrl;
    private final Set<String> allowedOrigins;
    private final Map<String, String> kindDefaults;
    /**
     * Keys read so far, set or not: the configuration does not change while the relay runs, and Camel's
     * properties component answers each read of an unset key by throwing and catching an exception.
     */
    private final Map<String, Optional<String>> read = new ConcurrentHashMap<>();

    public SourceConfig(String id, RelayProperties properties) {
        this(id, properties, Map.of());
    }

    /**
     * A source whose unset keys fall back to its kind's defaults ({@code SourceKind#defaults}), e.g. Oracle
     * Health's {@code single-export=true}: a key set in the configuration always wins.
     */
    public SourceConfig(String id, RelayProperties properties, Map<String, String> kindDefaults) {
        this.kindDefaults = Map.copyOf(kindDefaults);
        if (!id.matches("[A-Za-z0-9][A-Za-z0-9_-]{0,63}")) {
            throw new ConfigurationException("Source id '" + id + "' must be letters, digits, '-' or '_'");
        }
        this.id = id;
        this.prefix = "relay.sources." + id + ".";
        this.properties = properties;
        this.kind = properties.get(prefix + "kind")
                .orElseThrow(() -> new ConfigurationException("Source " + id + " has no " + prefix + "kind"));
        this.baseUrl = property("base-url").map(SourceConfig::baseUri).orElse(null);
        Set<String> origins = new LinkedHashSet<>();
        if (baseUrl != null) {
            origins.add(origin(baseUrl));
        }
        property("allowed-hosts").ifPresent(list -> Arrays.stream(list.split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).map(s -> s.toLowerCase(Locale.ROOT)).forEach(origins::add));
        this.allowedOrigins = Set.copyOf(origins);
    }

    private static URI baseUri(String value) {
        String v = value.endsWith("/") ? value : value + "/";
        URI uri = URI.create(v);
        if (uri.getScheme() == null || uri.getHost() == null) {
            throw new ConfigurationException("base-url '" + value + "' must be an absolute http(s) URL");
        }
        return uri;
    }

    /** {@code scheme://host:port} with the default port made explicit, lower-cased: the unit of trust. */
    public static String origin(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        int port = uri.getPort() != -1 ? uri.getPort() : "https".equals(scheme) ? 443 : 80;
        String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        return scheme + "://" + host + ":" + port;
    }

    public String id() { return id; }
    public String kind() { return kind; }
    public URI baseUrl() { return baseUrl; }

    public URI requireBaseUrl() {
        if (baseUrl == null) {
            throw new ConfigurationException("Source " + id + " needs " + prefix + "base-url");
        }
        return baseUrl;
    }

    /** The source's own origin (where its token may go). */
    public String origin() {
        return baseUrl == null ? null : origin(baseUrl);
    }

    /** Origins files may come from: the source's own plus {@code allowed-hosts} (host or scheme://host:port). */
    public boolean allowsHost(URI uri) {
        String origin = origin(uri);
        String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        return allowedOrigins.contains(origin) || allowedOrigins.contains(host)
                || allowedOrigins.stream().anyMatch(a -> a.startsWith("*.") && host.endsWith(a.substring(1)));
    }

    public Set<String> allowedOrigins() { return allowedOrigins; }

    /** The same source with its kind's defaults under the configured keys. */
    public SourceConfig withDefaults(Map<String, String> defaults) {
        return defaults.isEmpty() ? this : new SourceConfig(id, properties, defaults);
    }

    public Map<String, String> kindDefaults() {
        return kindDefaults;
    }

    public Optional<String> property(String name) {
        return read.computeIfAbsent(name, n -> {
            Optional<String> configured = properties.get(prefix + n);
            return configured.isPresent() ? configured : Optional.ofNullable(kindDefaults.get(n));
        });
    }

    public String property(String name, String defaultValue) {
        return property(name).orElse(defaultValue);
    }

    public String requireProperty(String name) {
        return property(name).orElseThrow(() -> new ConfigurationException("Source " + id + " needs " + prefix + name));
    }

    /** A switch: {@code true} or {@code false}; a typo is a configuration error, not "off". */
    public boolean flag(String name, boolean defaultValue) {
        return optionalFlag(name).orElse(defaultValue);
    }

    /** A switch that may be left unset, e.g. one sent to the vendor only when configured. */
    public Optional<Boolean> optionalFlag(String name) {
        return property(name).map(v -> RelayProperties.parseBoolean(prefix + name, v));
    }

    /** Reads the shared switches once, so that a typo stops the start rather than a job. */
    public void checkFlags() {
        SHARED_FLAGS.forEach(this::optionalFlag);
    }

    public int intProperty(String name, int defaultValue) {
        String v = property(name).orElse(null);
        try {
            return v == null ? defaultValue : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new ConfigurationException("Property " + prefix + name + " must be a whole number, not '" + v + "'");
        }
    }

    /** A per-source count with a floor: below {@code atLeast} a configuration error naming the key. */
    public int intProperty(String name, int defaultValue, int atLeast) {
        return RelayProperties.atLeast(prefix + name, intProperty(name, defaultValue), atLeast);
    }

    /** A per-source duration (or the kind's default), falling back to the relay-wide {@code relay.<fallbackKey>}. */
    public Duration duration(String name, String fallbackKey, Duration defaultValue) {
        return property(name).map(v -> RelayProperties.parseDuration(prefix + name, v))
                .orElseGet(() -> properties.getDuration("relay." + fallbackKey, defaultValue));
    }

    public Set<String> list(String name) {
        return property(name).map(v -> Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .collect(Collectors.toCollection(LinkedHashSet::new))).orElseGet(LinkedHashSet::new);
    }

    @Override
    public String toString() {
        return "source " + id + " (" + kind + ")";
    }
}
