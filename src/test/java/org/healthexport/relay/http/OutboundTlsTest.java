package org.healthexport.relay.http;

import com.sun.net.httpserver.HttpExchange;
import org.apache.camel.CamelContext;
import org.apache.camel.component.http.HttpComponent;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.hc.client5.http.ssl.NoopHostnameVerifier;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.sandbox.SandboxServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The TLS trust of outbound calls against real HTTPS servers with self-signed certificates. */
class OutboundTlsTest {
    private static final TestTls.Stores STORES = TestTls.stores();
    private final CamelContext camel = new DefaultCamelContext();
    private SandboxServer server;
    private SandboxServer wrongHost;

    @BeforeEach
    void startServers() {
        server = https(STORES.serverKeyStore());
        wrongHost = https(STORES.wrongHostKeyStore());
    }

    @AfterEach
    void stopServers() {
        server.stop();
        wrongHost.stop();
    }

    private static SandboxServer https(Path keyStore) {
        SandboxServer s = new SandboxServer("127.0.0.1", 0) {
            @Override
            protected void handle(HttpExchange exchange, String body) throws IOException {
                send(exchange, 200, "text/plain", "ok".getBytes());
            }
        };
        s.tls(SandboxServer.serverTls(keyStore, TestTls.KEY_STORE_PASSWORD, "PKCS12"));
        s.start();
        return s;
    }

    private static int get(OutboundTls tls, SandboxServer to) throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(tls.sslContext()).build();
        return http.send(HttpRequest.newBuilder(URI.create(to.baseUrl() + "/")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private OutboundTls trusting(Path store, String password) {
        return new OutboundTls(camel, store.toString(), password, "PKCS12", false);
    }

    @Test
    void byDefaultASelfSignedServerIsRefusedAndTheReasonSaysSo() {
        OutboundTls tls = new OutboundTls(camel, null, null, "PKCS12", false);
        assertThat(server.baseUrl()).startsWith("https://");
        assertThat(tls.trustManagers()).isNull();
        assertThat(tls.describe()).contains("JDK's default CAs");
        assertThatThrownBy(() -> get(tls, server)).isInstanceOf(SSLHandshakeException.class)
                .satisfies(e -> assertThat(TlsFailures.describe(e)).get().asString()
                        .startsWith("TLS: the server's certificate is not trusted").contains("relay.http.trust-store"));
    }

    @Test
    void aTrustStoreHoldingTheCertificateIsTrustedAndItsPasswordIsNotShown() throws Exception {
        OutboundTls tls = trusting(STORES.trustStore(), TestTls.TRUST_STORE_PASSWORD);
        assertThat(get(tls, server)).isEqualTo(200);
        assertThat(tls.describe()).contains(STORES.trustStore().toString()).contains("PKCS12, 1 certificate(s)")
                .doesNotContain(TestTls.TRUST_STORE_PASSWORD);
        assertThat(tls.insecure()).isFalse();
    }

    @Test
    void theTrustStoreReplacesTheDefaultsAndHostNamesAreStillChecked() {
        // trusted certificate, but issued for relay.invalid while the server is 127.0.0.1
        OutboundTls tls = trusting(STORES.wrongHostTrustStore(), TestTls.TRUST_STORE_PASSWORD);
        assertThatThrownBy(() -> get(tls, wrongHost)).isInstanceOf(SSLHandshakeException.class)
                .satisfies(e -> assertThat(TlsFailures.describe(e)).get().asString()
                        .startsWith("TLS: the server's certificate does not match its host name"));
        // and a certificate that is not in the store is not trusted, default CAs or not
        assertThatThrownBy(() -> get(tls, server)).isInstanceOf(SSLHandshakeException.class)
                .satisfies(e -> assertThat(TlsFailures.describe(e)).get().asString().contains("not trusted"));
    }

    @Test
    void insecureTrustsAnyCertificateForAnyHost() throws Exception {
        OutboundTls tls = new OutboundTls(camel, null, null, "PKCS12", true);
        assertThat(tls.insecure()).isTrue();
        assertThat(get(tls, server)).isEqualTo(200);
        assertThat(get(tls, wrongHost)).isEqualTo(200);
        assertThat(tls.describe()).contains("NOT verified");
        assertThat(tls.insecureWarning()).contains("relay.http.insecure-skip-tls-verify=true").contains("NOT verified");
    }

    @Test
    void insecureAndATrustStoreExcludeEachOther() {
        assertThatThrownBy(() -> new OutboundTls(camel, STORES.trustStore().toString(), TestTls.TRUST_STORE_PASSWORD,
                "PKCS12", true)).isInstanceOf(ConfigurationException.class).hasMessageContaining("exclude each other");
    }

    @Test
    void anUnreadableStoreStopsTheStartWithoutRepeatingThePassword() throws Exception {
        assertThatThrownBy(() -> trusting(STORES.trustStore(), "WRONG-password-sentinel-19"))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("relay.http.trust-store")
                .hasMessageContaining(STORES.trustStore().toString())
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("WRONG-password-sentinel-19"));
        assertThatThrownBy(() -> trusting(STORES.trustStore().resolveSibling("missing.p12"), "x"))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("does not exist");

        Path empty = STORES.trustStore().resolveSibling("empty.p12");
        KeyStore none = KeyStore.getInstance("PKCS12");
        none.load(null, null);
        try (OutputStream out = Files.newOutputStream(empty)) {
            none.store(out, "empty-pass".toCharArray());
        }
        assertThatThrownBy(() -> trusting(empty, "empty-pass"))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("holds no certificate");
    }

    @Test
    void camelHttpGetsTheSameTrust() throws Exception {
        HttpComponent untouched = new HttpComponent();
        new OutboundTls(camel, null, null, "PKCS12", false).applyTo(untouched);
        assertThat(untouched.getSslContextParameters()).isNull();
        assertThat(untouched.getX509HostnameVerifier()).isNotInstanceOf(NoopHostnameVerifier.class);

        HttpComponent withStore = new HttpComponent();
        withStore.setCamelContext(camel);
        trusting(STORES.trustStore(), TestTls.TRUST_STORE_PASSWORD).applyTo(withStore);
        assertThat(withStore.getSslContextParameters()).isNotNull();
        assertThat(withStore.getSslContextParameters().getTrustManagers().getKeyStore().getResource())
                .isEqualTo("file:" + STORES.trustStore());
        assertThat(withStore.getSslContextParameters().toString()).doesNotContain(TestTls.TRUST_STORE_PASSWORD);
        assertThat(withStore.getX509HostnameVerifier()).isNotInstanceOf(NoopHostnameVerifier.class);

        HttpComponent insecure = new HttpComponent();
        insecure.setCamelContext(camel);
        new OutboundTls(camel, null, null, "PKCS12", true).applyTo(insecure);
        assertThat(insecure.getSslContextParameters().getTrustManagers().getTrustManager())
                .isInstanceOf(OutboundTls.TrustEverything.class);
        assertThat(insecure.getX509HostnameVerifier()).isSameAs(NoopHostnameVerifier.INSTANCE);
    }
}
