package org.healthexport.relay.config;

import org.apache.camel.impl.DefaultCamelContext;

import java.util.Map;
import java.util.Properties;

/** Test fixture: one source's {@link SourceConfig}, read from its {@code relay.sources.<id>.*} keys as a relay reads it. */
public final class SourceConfigs {
    private SourceConfigs() {
    }

    /**
     * Source {@code id} of {@code kind} with {@code keys}, each named without the {@code relay.sources.<id>.} prefix;
     * a key whose value is null is left out, as if not configured.
     */
    public static SourceConfig source(String id, String kind, Map<String, String> keys) {
        Properties properties = new Properties();
        properties.setProperty("relay.sources." + id + ".kind", kind);
        keys.forEach((key, value) -> {
            if (value != null) {
                properties.setProperty("relay.sources." + id + "." + key, value);
            }
        });
        DefaultCamelContext camel = new DefaultCamelContext();
        camel.getPropertiesComponent().setInitialProperties(properties);
        return new SourceConfig(id, new RelayProperties(camel));
    }
}
