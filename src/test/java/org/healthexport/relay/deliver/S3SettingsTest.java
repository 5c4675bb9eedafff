package org.healthexport.relay.deliver;

import org.apache.camel.impl.DefaultCamelContext;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.RelayProperties;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class S3SettingsTest {

    @Test
    void aBodyGoesUnsignedByDefaultOnlyWhereTheStoreChecksItsSha256() {
        assertThat(settings(Map.of()).signPayload()).isEqualTo(S3Settings.SignPayload.NEVER);
        assertThat(settings(Map.of("checksum", "none")).signPayload()).isEqualTo(S3Settings.SignPayload.AUTO);
        assertThat(settings(Map.of("sign-payload", "auto")).signPayload()).isEqualTo(S3Settings.SignPayload.AUTO);
        assertThat(settings(Map.of("checksum", "none", "sign-payload", "never")).signPayload())
                .isEqualTo(S3Settings.SignPayload.NEVER);
    }

    @Test
    void anUnknownSigningChoiceIsAConfigurationError() {
        assertThatThrownBy(() -> settings(Map.of("sign-payload", "always")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("relay.target.s3.sign-payload must be auto or never");
    }

    private static S3Settings settings(Map<String, String> s3) {
        DefaultCamelContext context = new DefaultCamelContext();
        Properties p = new Properties();
        p.setProperty("relay.target.s3.bucket", "exports");
        s3.forEach((k, v) -> p.setProperty("relay.target.s3." + k, v));
        context.getPropertiesComponent().setInitialProperties(p);
        return S3Settings.from(new RelayProperties(context));
    }
}
