package org.healthexport.relay.source.healthex;

import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfigs;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A HealthEx source as read from its keys at startup. */
class HealthexSourceTest {

    static HealthexSource source(String skipInteractive) {
        Map<String, String> keys = new HashMap<>(Map.of("base-url", "https://api.healthex.io", "project-id", "p1"));
        keys.put("skip-interactive", skipInteractive);
        return HealthexSource.of(SourceConfigs.source("hx", "healthex", keys));
    }

    @Test
    void skipInteractiveIsSentOnlyWhenSetAndATypoStopsTheStart() {
        assertThat(source(null).skipInteractive()).as("unset: the body is {}").isNull();
        assertThat(source("true").skipInteractive()).isTrue();
        assertThat(source("False").skipInteractive()).isFalse();
        assertThatThrownBy(() -> source("ture")).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("relay.sources.hx.skip-interactive must be true or false, not 'ture'");
    }
}
