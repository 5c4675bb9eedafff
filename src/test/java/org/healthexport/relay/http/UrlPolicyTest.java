package org.healthexport.relay.http;

import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.SourceConfigs;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UrlPolicyTest {
    static SourceConfig source(String baseUrl, String allowedHosts) {
        Map<String, String> keys = new HashMap<>();
        keys.put("base-url", baseUrl);
        keys.put("allowed-hosts", allowedHosts);
        return SourceConfigs.source("s", "fhir-bulk", keys);
    }

    @Test
    void filesOnTheSourceOriginAreAllowed() {
        SourceConfig s = source("https://fhir.example.org/r4", null);
        assertThatCode(() -> UrlPolicy.checkFileUrl(s, URI.create("https://fhir.example.org/files/1"))).doesNotThrowAnyException();
        assertThatCode(() -> UrlPolicy.checkFileUrl(s, URI.create("https://FHIR.example.org:443/files/1"))).doesNotThrowAnyException();
    }

    @Test
    void anotherHostOrPortIsRefused() {
        SourceConfig s = source("https://fhir.example.org/r4", null);
        assertThatThrownBy(() -> UrlPolicy.checkFileUrl(s, URI.create("https://evil.example.com/files/1")))
                .isInstanceOf(UrlPolicy.RefusedUrlException.class).hasMessageContaining("evil.example.com");
        assertThatThrownBy(() -> UrlPolicy.checkFileUrl(s, URI.create("https://fhir.example.org:8443/files/1")))
                .isInstanceOf(UrlPolicy.RefusedUrlException.class);
        assertThatThrownBy(() -> UrlPolicy.checkFileUrl(s, URI.create("http://fhir.example.org/files/1")))
                .isInstanceOf(UrlPolicy.RefusedUrlException.class);
    }

    @Test
    void statusUrlsMustBeOnTheSourceOriginEvenWhenOtherHostsAreAllowedForFiles() {
        SourceConfig s = source("https://fhir.example.org/r4", "*.s3.amazonaws.com");
        assertThatCode(() -> UrlPolicy.checkStatusUrl(s, URI.create("https://fhir.example.org/r4/jobs/1"))).doesNotThrowAnyException();
        assertThatThrownBy(() -> UrlPolicy.checkStatusUrl(s, URI.create("https://b.s3.amazonaws.com/jobs/1")))
                .isInstanceOf(UrlPolicy.RefusedUrlException.class);
    }

    @Test
    void nonHttpSchemesAreRefused() {
        SourceConfig s = source("https://fhir.example.org/r4", null);
        assertThatThrownBy(() -> UrlPolicy.checkFileUrl(s, URI.create("file:///etc/passwd")))
                .isInstanceOf(UrlPolicy.RefusedUrlException.class);
        assertThatThrownBy(() -> UrlPolicy.checkRedirect(s, URI.create("ftp://fhir.example.org/x")))
                .isInstanceOf(UrlPolicy.RefusedUrlException.class);
    }

    @Test
    void allowedHostsIncludeWildcards() {
        SourceConfig s = source("https://fhir.example.org/r4", "*.s3.amazonaws.com,https://cdn.example.net:443");
        assertThatCode(() -> UrlPolicy.checkRedirect(s, URI.create("https://bucket.s3.amazonaws.com/x?sig=1"))).doesNotThrowAnyException();
        assertThatCode(() -> UrlPolicy.checkFileUrl(s, URI.create("https://cdn.example.net/x"))).doesNotThrowAnyException();
    }

    @Test
    void redirectsToInternalAddressesAreRefusedForPublicSources() {
        SourceConfig s = source("https://fhir.example.org/r4", null);
        for (String target : new String[] {"http://127.0.0.1/x", "http://169.254.169.254/latest/meta-data",
                "http://10.0.0.5/x", "http://192.168.1.1/x", "http://localhost:8080/x", "http://[::1]/x",
                "http://0.0.0.1/x", "http://100.100.100.200/latest/meta-data", "http://[::ffff:10.1.2.3]/x"}) {
            assertThatThrownBy(() -> UrlPolicy.checkRedirect(s, URI.create(target))).as(target)
                    .isInstanceOf(UrlPolicy.RefusedUrlException.class);
        }
    }

    @Test
    void redirectsOutsideTheAllowListAreRefused() {
        SourceConfig s = source("https://fhir.example.org/r4", null);
        assertThatThrownBy(() -> UrlPolicy.checkRedirect(s, URI.create("https://elsewhere.example.com/x")))
                .isInstanceOf(UrlPolicy.RefusedUrlException.class);
    }
}
