package org.healthexport.relay.config;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A source's own keys: switches, kind defaults, and what a typo does. */
class SourceConfigTest {

    static SourceConfig source(String... keyValues) {
        Map<String, String> keys = new HashMap<>(Map.of("base-url", "https://fhir.example.org/r4"));
        for (int i = 0; i < keyValues.length; i += 2) {
            keys.put(keyValues[i], keyValues[i + 1]);
        }
        return SourceConfigs.source("s1", "fhir-bulk", keys);
    }

    @Test
    void aSwitchIsReadAsTrueOrFalseInAnyCaseAndFallsBackToItsDefault() {
        SourceConfig s = source("single-export", " TRUE ", "delete-after-delivery", "false");
        assertThat(s.flag("single-export", false)).isTrue();
        assertThat(s.flag("delete-after-delivery", true)).isFalse();
        assertThat(s.flag("kickoff-on-start", true)).isTrue();
        assertThat(s.optionalFlag("kickoff-on-start")).isEmpty();
    }

    @Test
    void aTypoInASwitchIsAConfigurationErrorNamingTheKeyNotASilentFalse() {
        SourceConfig s = source("single-export", "ture");
        assertThatThrownBy(() -> s.flag("single-export", false)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("relay.sources.s1.single-export").hasMessageContaining("'ture'");
    }

    @Test
    void theSharedSwitchesAreCheckedAtStartupSoATypoStopsTheStartNotAJob() {
        for (String flag : SourceConfig.SHARED_FLAGS) {
            assertThatThrownBy(() -> source(flag, "yes").checkFlags()).as(flag)
                    .isInstanceOf(ConfigurationException.class).hasMessageContaining("relay.sources.s1." + flag);
        }
        assertThatCode(() -> source("single-export", "false", "redirects-anywhere", "True").checkFlags())
                .doesNotThrowAnyException();
    }

    @Test
    void aConfiguredKeyWinsOverTheKindsDefaultAndAnUnsetOneFallsBackToIt() {
        SourceConfig s = source("queue-when-busy", "false")
                .withDefaults(Map.of("queue-when-busy", "true", "single-export", "true"));
        assertThat(s.flag("queue-when-busy", true)).isFalse();
        assertThat(s.flag("single-export", false)).isTrue();
        assertThat(s.property("single-export")).contains("true");
        assertThat(s.property("not-a-key")).isEmpty();
    }
}
