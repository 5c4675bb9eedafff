package org.healthexport.relay.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;

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
}
