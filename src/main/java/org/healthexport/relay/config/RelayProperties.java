package org.healthexport.relay.config;

import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Typed reads of {@code relay.*} properties through Camel's properties component, so every key is
 * overridden by {@code -Dkey=value} and by its environment variable ({@code RELAY_POLL_MAX_WAIT}).
 */
public class RelayProperties {
    private static final Pattern ENV_SOURCE_KIND = Pattern.compile("RELAY_SOURCES_([A-Z0-9]+)_KIND");
    private final PropertiesComponent properties;

    public RelayProperties(CamelContext context) {
        this.properties = context.getPropertiesComponent();
    }

    public Optional<String> get(String key) {
        return properties.resolveProperty(key).map(String::trim).filter(v -> !v.isEmpty());
    }

    public String get(String key, String defaultValue) {
        return get(key).orElse(defaultValue);
    }

    public int getInt(String key, int defaultValue) {
        String v = get(key, null);
        try {
            return v == null ? defaultValue : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new ConfigurationException("Property " + key + " must be a whole number, not '" + v + "'");
        }
    }

    public long getLong(String key, long defaultValue) {
        String v = get(key, null);
        try {
            return v == null ? defaultValue : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new ConfigurationException("Property " + key + " must be a whole number, not '" + v + "'");
        }
    }

    /**
     * A count or size that has a floor (a batch of 0 jobs would never poll): below {@code atLeast} the start stops
     * with the key named rather than the relay running on, stalled.
     */
    public int getInt(String key, int defaultValue, int atLeast) {
        return atLeast(key, getInt(key, defaultValue), atLeast);
    }

    public long getLong(String key, long defaultValue, long atLeast) {
        return atLeast(key, getLong(key, defaultValue), atLeast);
    }

    /** {@code value}, or a configuration error naming {@code key} when it is below {@code atLeast}. */
    public static <T extends Comparable<T>> T atLeast(String key, T value, T atLeast) {
        if (value.compareTo(atLeast) < 0) {
            throw new ConfigurationException("Property " + key + " must be at least " + atLeast + ", not " + value);
        }
        return value;
    }

    /**
     * {@code true} or {@code false} (any case); anything else is refused rather than read as false
     * ({@code Boolean.parseBoolean}'s way), which would turn a typo in {@code strict-host-key-checking} into "off".
     */
    public boolean getBoolean(String key, boolean defaultValue) {
        return get(key).map(v -> parseBoolean(key, v)).orElse(defaultValue);
    }

    public static boolean parseBoolean(String key, String value) {
        String v = value.trim();
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return v.equalsIgnoreCase("true");
        }
        throw new ConfigurationException("Property " + key + " must be true or false, not '" + value + "'");
    }

    /** Durations as ISO-8601 ({@code PT10S}) or a number with a unit: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 2h}, {@code 1d}. */
    public Duration getDuration(String key, Duration defaultValue) {
        return get(key).map(v -> parseDuration(key, v)).orElse(defaultValue);
    }

    /** A duration with a floor, e.g. a lease of 0 s that would let another replica claim a job while it is polled. */
    public Duration getDuration(String key, Duration defaultValue, Duration atLeast) {
        return atLeast(key, getDuration(key, defaultValue), atLeast);
    }

    /** {@code relay.http.connect-timeout}: every outbound client's wait for a connection (0 would mean none). */
    public Duration httpConnectTimeout() {
        return getDuration("relay.http.connect-timeout", Duration.ofSeconds(10), Duration.ofMillis(1));
    }

    /** {@code relay.http.read-timeout}: the longest silence on an outbound connection (0 would wait forever). */
    public Duration httpReadTimeout() {
        return getDuration("relay.http.read-timeout", Duration.ofMinutes(5), Duration.ofMillis(1));
    }

    public static Duration parseDuration(String key, String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        try {
            if (v.startsWith("p")) {
                Duration d = Duration.parse(v.toUpperCase(Locale.ROOT));
                if (!d.isNegative()) {
                    return d;
                }
            }
            Matcher m = Pattern.compile("(\\d+)(ms|s|m|h|d)?").matcher(v);
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                String unit = m.group(2) == null ? "s" : m.group(2);
                return switch (unit) {
                    case "ms" -> Duration.ofMillis(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    case "d" -> Duration.ofDays(n);
                    default -> Duration.ofSeconds(n);
                };
            }
        } catch (RuntimeException e) {
            // fall through to the clear message below
        }
        throw new ConfigurationException("Property " + key + " must be a duration such as 30s, 5m or PT1H, not '"
                + value + "'");
    }

    /**
     * The ids of the configured sources: from the properties files, system properties, and environment
     * variables named {@code RELAY_SOURCES_<ID>_KIND} (an id given that way is lower-cased).
     */
    public Set<String> sourceIds() {
        return sourceIds(givenKeys());
    }

    /** The same from keys already read with {@link #givenKeys()}: each call of that reads the properties files. */
    public Set<String> sourceIds(Set<String> givenKeys) {
        Set<String> ids = new TreeSet<>();
        addSourceIds(ids, givenKeys);
        for (Map.Entry<String, String> env : System.getenv().entrySet()) {
            Matcher m = ENV_SOURCE_KIND.matcher(env.getKey());
            if (m.matches()) {
                ids.add(m.group(1).toLowerCase(Locale.ROOT));
            }
        }
        return ids;
    }

    /**
     * The {@code relay.*} keys given in the properties files and as system properties. Environment variables are
     * left out: a name does not map back to one key (a source's are checked apart, {@link #givenSourceVariables}).
     */
    public Set<String> givenKeys() {
        Set<String> keys = new TreeSet<>(properties.loadProperties(k -> k.startsWith("relay.")).stringPropertyNames());
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("relay.")).forEach(keys::add);
        return keys;
    }

    /**
     * The environment variables that give a source's keys ({@code RELAY_SOURCES_*}); the relay's other keys share
     * their {@code RELAY_} prefix with variables that are not keys ({@code {{env:RELAY_BUCKET}}}), these do not.
     */
    public Set<String> givenSourceVariables() {
        Set<String> names = new TreeSet<>(System.getenv().keySet());
        names.removeIf(name -> !name.startsWith("RELAY_SOURCES_"));
        return names;
    }

    private static void addSourceIds(Set<String> ids, Set<String> keys) {
        for (String key : keys) {
            if (key.startsWith("relay.sources.")) {
                String rest = key.substring("relay.sources.".length());
                int dot = rest.indexOf('.');
                if (dot > 0) {
                    ids.add(rest.substring(0, dot));
                }
            }
        }
    }
}
