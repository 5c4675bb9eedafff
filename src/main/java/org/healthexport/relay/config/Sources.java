package org.healthexport.relay.config;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** The configured sources by id, read once at startup. */
public class Sources {
    private final Map<String, SourceConfig> byId = new LinkedHashMap<>();

    public Sources(Collection<SourceConfig> sources) {
        sources.forEach(s -> byId.put(s.id(), s));
    }

    public SourceConfig get(String id) {
        SourceConfig s = byId.get(id);
        if (s == null) {
            throw new UnknownSourceException(id);
        }
        return s;
    }

    /** The kind of a source: routes pick the kind's own routes by it ({@code direct:kickoff-<kind>}). */
    public String kindOf(String id) {
        return get(id).kind();
    }

    /** A source's boolean setting, for route conditions. */
    public boolean flag(String id, String name, boolean defaultValue) {
        return get(id).flag(name, defaultValue);
    }

    public boolean contains(String id) {
        return byId.containsKey(id);
    }

    public Collection<SourceConfig> all() {
        return byId.values();
    }

    /** Asked for a source id that is not configured: the API answers 404. */
    public static class UnknownSourceException extends IllegalArgumentException {
        public UnknownSourceException(String id) {
            super("Unknown source '" + id + "'");
        }
    }
}
