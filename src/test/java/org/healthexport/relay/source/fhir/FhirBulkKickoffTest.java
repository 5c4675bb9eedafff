package org.healthexport.relay.source.fhir;

import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.SourceConfigs;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FhirBulkKickoffTest {
    static SourceConfig source(Map<String, String> settings) {
        Map<String, String> keys = new HashMap<>(Map.of("base-url", "https://fhir.example.org/r4"));
        keys.putAll(settings);
        return SourceConfigs.source("s", "fhir-bulk", keys);
    }

    private final FhirBulkKickoff kickoff = new FhirBulkKickoff(null, null, null);

    @Test
    void groupExportByGetKeepsTheParameters() {
        var r = kickoff.request(source(Map.of("export", "Group/abc/$export?_type=Patient,Observation")));
        assertThat(r.method()).isEqualTo("GET");
        assertThat(r.url().toString()).isEqualTo("https://fhir.example.org/r4/Group/abc/$export?_type=Patient,Observation");
        assertThat(r.body()).isNull();
    }

    @Test
    void systemExportAndFixedSince() {
        var r = kickoff.request(source(Map.of("export", "$export", "since", "2026-01-01T00:00:00Z")));
        assertThat(r.url().toString()).isEqualTo("https://fhir.example.org/r4/$export?_since=2026-01-01T00:00:00Z");
    }

    @Test
    void postSendsParameters() {
        var r = kickoff.request(source(Map.of("export", "Patient/$export?_type=Patient,Condition&patient=Patient/1,Patient/2",
                "kickoff-method", "POST")));
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.url().toString()).isEqualTo("https://fhir.example.org/r4/Patient/$export");
        assertThat(r.body()).isEqualTo("{\"resourceType\":\"Parameters\",\"parameter\":["
                + "{\"name\":\"_type\",\"valueString\":\"Patient\"},{\"name\":\"_type\",\"valueString\":\"Condition\"},"
                + "{\"name\":\"patient\",\"valueReference\":{\"reference\":\"Patient/1\"}},"
                + "{\"name\":\"patient\",\"valueReference\":{\"reference\":\"Patient/2\"}}]}");
    }

    @Test
    void badSettingsAreConfigurationErrors() {
        assertThatThrownBy(() -> kickoff.request(source(Map.of("kickoff-method", "PUT"))))
                .isInstanceOf(ConfigurationException.class);
        assertThatThrownBy(() -> kickoff.request(source(Map.of("since", "yesterday"))))
                .isInstanceOf(ConfigurationException.class);
    }

    @Test
    void adoptionRefusesForeignStatusUrls() {
        SourceConfig s = source(Map.of());
        assertThat(kickoff.adopt(s, Map.of("statusUrl", "https://fhir.example.org/r4/jobs/7")).statusUrl())
                .isEqualTo("https://fhir.example.org/r4/jobs/7");
        assertThatThrownBy(() -> kickoff.adopt(s, Map.of("statusUrl", "https://evil.example.com/jobs/7")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("refused");
        assertThatThrownBy(() -> kickoff.adopt(s, Map.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
