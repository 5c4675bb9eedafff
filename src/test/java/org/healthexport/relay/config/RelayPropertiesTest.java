package org.healthexport.relay.config;

import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RelayPropertiesTest {
    @Test
    void durationsTakeUnitsOrIso() {
        assertThat(RelayProperties.parseDuration("k", "500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(RelayProperties.parseDuration("k", "30")).isEqualTo(Duration.ofSeconds(30));
        assertThat(RelayProperties.parseDuration("k", "30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(RelayProperties.parseDuration("k", "5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(RelayProperties.parseDuration("k", "2h")).isEqualTo(Duration.ofHours(2));
        assertThat(RelayProperties.parseDuration("k", "1d")).isEqualTo(Duration.ofDays(1));
        assertThat(RelayProperties.parseDuration("k", "PT10M")).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void aSwitchIsTrueOrFalseAndATypoIsRefusedNotReadAsOff() {
        assertThat(RelayProperties.parseBoolean("k", "true")).isTrue();
        assertThat(RelayProperties.parseBoolean("k", " FALSE ")).isFalse();
        assertThatThrownBy(() -> RelayProperties.parseBoolean("relay.target.sftp.strict-host-key-checking", "ture"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessage("Property relay.target.sftp.strict-host-key-checking must be true or false, not 'ture'");
    }

    @Test
    void aBadDurationNamesTheKey() {
        assertThatThrownBy(() -> RelayProperties.parseDuration("relay.poll.max-wait", "soon"))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("relay.poll.max-wait");
    }

    @Test
    void aCountBelowItsFloorStopsTheStartWithTheKeyNamedWhileTheDefaultAndHigherValuesPass() {
        RelayProperties props = configured(Map.of("relay.poll.batch-size", "0", "relay.notify.webhook-attempts", "3"));

        assertThatThrownBy(() -> props.getInt("relay.poll.batch-size", 200, 1))
                .isInstanceOf(ConfigurationException.class)
                .hasMessage("Property relay.poll.batch-size must be at least 1, not 0");
        assertThat(props.getInt("relay.notify.webhook-attempts", 8, 1)).isEqualTo(3);
        assertThat(props.getLong("relay.http.max-status-bytes", 16, 1)).as("unset: the default").isEqualTo(16);
    }

    @Test
    void aNegativeDurationIsRefusedAndALeaseOrTimeoutOfZeroStopsTheStart() {
        assertThatThrownBy(() -> RelayProperties.parseDuration("relay.poll.max-wait", "PT-5S"))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("relay.poll.max-wait");
        assertThatThrownBy(() -> RelayProperties.parseDuration("relay.poll.max-wait", "-5s"))
                .isInstanceOf(ConfigurationException.class);
        assertThat(RelayProperties.parseDuration("k", "PT0S")).isZero();

        RelayProperties props = configured(Map.of("relay.poll.lease", "0", "relay.http.read-timeout", "0ms",
                "relay.http.connect-timeout", "250ms"));
        assertThatThrownBy(() -> props.getDuration("relay.poll.lease", Duration.ofSeconds(60), Duration.ofSeconds(1)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessage("Property relay.poll.lease must be at least PT1S, not PT0S");
        assertThatThrownBy(props::httpReadTimeout).hasMessageContaining("relay.http.read-timeout");
        assertThat(props.httpConnectTimeout()).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void theSourceIdsComeFromTheSourceKeysWhetherReadHereOrGiven() {
        RelayProperties props = configured(Map.of("relay.sources.acme.kind", "fhir-bulk",
                "relay.sources.beta.base-url", "https://beta.example/fhir", "relay.target.kind", "file"));

        Set<String> given = props.givenKeys();
        assertThat(given).contains("relay.sources.acme.kind", "relay.sources.beta.base-url", "relay.target.kind");
        assertThat(props.sourceIds(given)).contains("acme", "beta").doesNotContain("kind", "target");
        assertThat(props.sourceIds()).isEqualTo(props.sourceIds(given));
        assertThat(props.sourceIds(Set.of("relay.sources.gamma.kind", "relay.sources.", "relay.sources.x")))
                .as("a key without a source's own key names no source").contains("gamma").doesNotContain("", "x");
    }

    @Test
    void aSourceCountBelowItsFloorNamesTheSourcesKey() {
        SourceConfig s = SourceConfigs.source("s1", "fhir-bulk", Map.of("parallel-downloads", "0"));
        assertThatThrownBy(() -> s.intProperty("parallel-downloads", 8, 1))
                .hasMessage("Property relay.sources.s1.parallel-downloads must be at least 1, not 0");
        assertThat(s.intProperty("max-pages", 100, 1)).isEqualTo(100);
    }

    /** The relay's properties as a context given these keys would read them. */
    private static RelayProperties configured(Map<String, String> keys) {
        Properties configured = new Properties();
        configured.putAll(keys);
        DefaultCamelContext camel = new DefaultCamelContext();
        camel.getPropertiesComponent().setInitialProperties(configured);
        return new RelayProperties(camel);
    }
}
