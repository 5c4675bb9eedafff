package org.healthexport.relay.http;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.Locale;
import java.util.Optional;

/**
 * Says in plain words why a TLS handshake failed (a job's last error, read by an operator): the JDK's own text
 * ("PKIX path building failed: ...SunCertPathBuilderException...") does not say what to do.
 */
public final class TlsFailures {
    private TlsFailures() {
    }

    /**
     * The reason when {@code error} (or one of its causes) is a TLS failure; empty otherwise. Causes copied
     * without their type (a target's redacted copies) are recognised by their text.
     */
    public static Optional<String> describe(Throwable error) {
        String tls = null;
        boolean untrusted = false;
        boolean expired = false;
        boolean wrongHost = false;
        for (Throwable t = error; t != null && t.getCause() != t; t = t.getCause()) {
            String message = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (tls == null && t instanceof SSLException ssl) {
                tls = ssl.getClass().getSimpleName() + ": " + ssl.getMessage();
            } else if (tls == null && String.valueOf(t.getMessage()).contains("javax.net.ssl.SSL")) {
                tls = t.getMessage().substring(t.getMessage().indexOf("javax.net.ssl.") + "javax.net.ssl.".length());
            }
            untrusted |= t instanceof CertPathBuilderException || t instanceof CertPathValidatorException
                    || message.contains("pkix path") || message.contains("unable to find valid certification path");
            expired |= t instanceof CertificateExpiredException || t instanceof CertificateNotYetValidException;
            wrongHost |= t instanceof SSLPeerUnverifiedException || message.contains("subject alternative name")
                    || message.contains("no name matching");
        }
        if (tls == null) {
            return Optional.empty();
        }
        String detail = " (" + tls + ")";
        if (expired) {
            return Optional.of("TLS: the server's certificate has expired or is not valid yet" + detail);
        }
        if (wrongHost) {
            return Optional.of("TLS: the server's certificate does not match its host name" + detail);
        }
        if (untrusted) {
            return Optional.of("TLS: the server's certificate is not trusted (no CA of the relay's trust store"
                    + " issued it; a private CA or a self-signed server goes into " + OutboundTls.TRUST_STORE + ")"
                    + detail);
        }
        return Optional.of("TLS handshake failed" + detail);
    }
}
