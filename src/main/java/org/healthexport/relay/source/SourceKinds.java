package org.healthexport.relay.source;

import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.source.fhir.FhirBulkKind;
import org.healthexport.relay.source.healthex.HealthexKind;
import org.healthexport.relay.source.oracle.OracleHealthKind;
import org.healthexport.relay.source.redox.RedoxBulkKind;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Every vendor kind the relay knows. One line per kind. */
public final class SourceKinds {
    private SourceKinds() {
    }

    public static List<SourceKind> all() {
        return List.of(
                new FhirBulkKind(),
                new OracleHealthKind(),
                new RedoxBulkKind(),
                new HealthexKind());
    }

    public static Map<String, SourceKind> byName() {
        return all().stream().collect(Collectors.toMap(SourceKind::name, Function.identity()));
    }

    public static SourceKind get(String name) {
        SourceKind kind = byName().get(name);
        if (kind == null) {
            throw new ConfigurationException("Unknown source kind '" + name + "'; known: " + byName().keySet());
        }
        return kind;
    }
}
