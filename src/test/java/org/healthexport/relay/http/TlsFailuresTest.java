package org.healthexport.relay.http;

import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import java.io.IOException;
import java.net.ConnectException;
import java.security.cert.CertificateExpiredException;

import static org.assertj.core.api.Assertions.assertThat;

class TlsFailuresTest {
    private static final String PKIX = "PKIX path building failed: sun.security.provider.certpath."
            + "SunCertPathBuilderException: unable to find valid certification path to requested target";

    @Test
    void anUntrustedCertificateIsSaidSoWhereverItIsWrapped() {
        IOException wrapped = new IOException("Token endpoint https://h/token unreachable",
                new SSLHandshakeException(PKIX));
        assertThat(TlsFailures.describe(wrapped)).get().asString()
                .startsWith("TLS: the server's certificate is not trusted").contains("relay.http.trust-store")
                .endsWith("(SSLHandshakeException: " + PKIX + ")");
    }

    @Test
    void copiesWithoutTheirTypeAreRecognisedByTheirText() {
        // as a target's redacted copy of the cause chain: only the messages are left
        Exception copy = new Exception("S3 upload failed", new Exception("javax.net.ssl.SSLHandshakeException: " + PKIX));
        assertThat(TlsFailures.describe(copy)).get().asString()
                .startsWith("TLS: the server's certificate is not trusted").contains("(SSLHandshakeException: PKIX");
    }

    @Test
    void wrongHostAndExpiryHaveTheirOwnWords() {
        assertThat(TlsFailures.describe(new SSLPeerUnverifiedException("Certificate for <a> doesn't match any of the"
                + " subject alternative names: [b]"))).get().asString()
                .startsWith("TLS: the server's certificate does not match its host name");
        SSLHandshakeException expired = new SSLHandshakeException("PKIX path validation failed");
        expired.initCause(new CertificateExpiredException("NotAfter: ..."));
        assertThat(TlsFailures.describe(expired)).get().asString()
                .startsWith("TLS: the server's certificate has expired");
    }

    @Test
    void otherFailuresAreNotTls() {
        assertThat(TlsFailures.describe(new ConnectException("Connection refused"))).isEmpty();
        assertThat(TlsFailures.describe(new IOException("boom", new RuntimeException((String) null)))).isEmpty();
        assertThat(TlsFailures.describe(new SSLHandshakeException("Remote host terminated the handshake"))).get()
                .asString().isEqualTo("TLS handshake failed (SSLHandshakeException: Remote host terminated the handshake)");
    }
}
