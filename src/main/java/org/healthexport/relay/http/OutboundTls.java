package org.healthexport.relay.http;

import org.apache.camel.CamelContext;
import org.apache.camel.component.http.HttpComponent;
import org.apache.camel.support.jsse.KeyStoreParameters;
import org.apache.camel.support.jsse.SSLContextParameters;
import org.apache.camel.support.jsse.TrustManagersParameters;
import org.apache.hc.client5.http.ssl.NoopHostnameVerifier;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.RelayProperties;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Collections;

/**
 * The TLS trust of every outbound call of the relay (status polls and kick-offs on camel-http, files, tokens and
 * the webhook on the JDK client, the S3 target): the JDK's CAs by default; the certificates of
 * {@code relay.http.trust-store} instead when it is set; no verification at all only with the explicit
 * {@code relay.http.insecure-skip-tls-verify}. One decision for all clients, so no call gets through one client
 * what another would refuse.
 */
public final class OutboundTls {
    public static final String TRUST_STORE = "relay.http.trust-store";
    public static final String INSECURE = "relay.http.insecure-skip-tls-verify";
    private final String trustStore;
    private final String type;
    private final boolean insecure;
    private final TrustManagersParameters trustParameters;
    private final TrustManager[] trustManagers;
    private final int certificates;

    /**
     * @param trustStore path of the store, or null for the JDK's default CAs
     * @param password   its password (never part of any message), or null
     */
    public OutboundTls(CamelContext context, String trustStore, String password, String type, boolean insecure) {
        this.trustStore = trustStore;
        this.type = type;
        this.insecure = insecure;
        if (insecure && trustStore != null) {
            throw new ConfigurationException(INSECURE + " and " + TRUST_STORE + " exclude each other: either the"
                    + " certificates are checked against the store, or not at all");
        }
        if (insecure) {
            trustParameters = new TrustManagersParameters();
            trustParameters.setTrustManager(new TrustEverything());
            trustManagers = new TrustManager[] {trustParameters.getTrustManager()};
            certificates = 0;
        } else if (trustStore != null) {
            Path path = Path.of(trustStore).toAbsolutePath();
            if (!Files.isReadable(path)) {
                throw new ConfigurationException(TRUST_STORE + " " + path + " does not exist or cannot be read");
            }
            KeyStoreParameters keyStore = new KeyStoreParameters();
            keyStore.setCamelContext(context);
            keyStore.setResource("file:" + path);
            keyStore.setType(type);
            keyStore.setPassword(password);
            trustParameters = new TrustManagersParameters();
            trustParameters.setCamelContext(context);
            trustParameters.setKeyStore(keyStore);
            try {
                certificates = countCertificates(keyStore.createKeyStore());
                trustManagers = trustParameters.createTrustManagers();
            } catch (IOException | GeneralSecurityException e) {
                // the JDK's messages name the problem ("keystore password was incorrect"), never the password
                throw new ConfigurationException(TRUST_STORE + " " + path + " cannot be read as " + type + ": "
                        + e.getMessage());
            }
            if (certificates == 0) {
                throw new ConfigurationException(TRUST_STORE + " " + path + " holds no certificate: no server"
                        + " could be trusted");
            }
        } else {
            trustParameters = null;
            trustManagers = null;
            certificates = 0;
        }
    }

    public static OutboundTls from(CamelContext context, RelayProperties props) {
        return new OutboundTls(context, props.get(TRUST_STORE, null), props.get("relay.http.trust-store-password", null),
                props.get("relay.http.trust-store-type", "PKCS12"), props.getBoolean(INSECURE, false));
    }

    public boolean insecure() {
        return insecure;
    }

    /** The trust managers of the store (or of no verification); null means the JDK's defaults. */
    public TrustManager[] trustManagers() {
        return trustManagers == null ? null : trustManagers.clone();
    }

    /** For the JDK HttpClient: its host name check is done by the trust manager, so trusting everything skips it too. */
    public SSLContext sslContext() {
        try {
            if (trustManagers == null) {
                return SSLContext.getDefault();
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trustManagers, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("No TLS context: " + e.getMessage(), e);
        }
    }

    /**
     * The same trust for camel-http, as Camel's SSLContextParameters on the component (every http endpoint of
     * every route uses it); with verification off, host names are not checked either.
     */
    public void applyTo(HttpComponent http) {
        if (trustParameters != null) {
            SSLContextParameters parameters = new SSLContextParameters();
            parameters.setCamelContext(http.getCamelContext());
            parameters.setTrustManagers(trustParameters);
            http.setSslContextParameters(parameters);
        }
        if (insecure) {
            http.setX509HostnameVerifier(NoopHostnameVerifier.INSTANCE);
        }
    }

    /** For the startup log: what is trusted (never the password). */
    public String describe() {
        if (insecure) {
            return "certificates NOT verified (" + INSECURE + "=true)";
        }
        if (trustStore != null) {
            return "certificates verified against " + TRUST_STORE + " " + Path.of(trustStore).toAbsolutePath()
                    + " (" + type + ", " + certificates + " certificate(s))";
        }
        return "certificates verified against the JDK's default CAs";
    }

    /** The warning logged at every start while verification is off. */
    public String insecureWarning() {
        return INSECURE + "=true: TLS certificates and host names of every outbound connection (sources, token"
                + " endpoints, file hosts, webhook, S3) are NOT verified; anyone on the network path can read or change"
                + " exports and take tokens. Use " + TRUST_STORE + " for a private CA or a self-signed server.";
    }

    private static int countCertificates(KeyStore store) throws GeneralSecurityException {
        int n = 0;
        for (String alias : Collections.list(store.aliases())) {
            if (store.isCertificateEntry(alias) || store.getCertificate(alias) != null) {
                n++;
            }
        }
        return n;
    }

    /** No verification at all. Extended, so the JDK does not add its own host name check around it. */
    static final class TrustEverything extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
