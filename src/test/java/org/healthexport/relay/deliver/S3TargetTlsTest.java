package org.healthexport.relay.deliver;

import org.apache.camel.impl.DefaultCamelContext;
import org.healthexport.relay.http.OutboundTls;
import org.healthexport.relay.http.TestTls;
import org.healthexport.relay.http.TlsFailures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The S3 target trusts what relay.http.* says, against a real S3 server (S3Proxy) on HTTPS with a self-signed certificate. */
class S3TargetTlsTest {
    private static final String BUCKET = "exports";
    private static final byte[] BODY = "{\"resourceType\":\"Patient\"}\n".getBytes(StandardCharsets.UTF_8);
    private final DefaultCamelContext camel = new DefaultCamelContext();
    private S3ProxyServer server;

    @BeforeEach
    void startServer() throws Exception {
        server = S3ProxyServer.startHttps(TestTls.stores().serverKeyStore(), TestTls.KEY_STORE_PASSWORD);
        assertThat(server.endpoint().getScheme()).isEqualTo("https");
    }

    @AfterEach
    void stopServer() throws Exception {
        server.close();
    }

    private S3Settings settings() {
        return new S3Settings(BUCKET, "us-east-1", server.endpoint(), true, S3ProxyServer.ACCESS_KEY,
                S3ProxyServer.SECRET_KEY, "", null, null, null, 5 * 1024 * 1024, 2, true, S3Settings.MAX_SINGLE_PUT);
    }

    private void putAndReadBack(OutboundTls tls) throws Exception {
        S3Target target = S3Target.create(settings(), tls);
        try (S3Client client = settings().clientBuilder(tls).build()) {
            client.createBucket(b -> b.bucket(BUCKET));
            target.put("bulk/j1/Patient-1.ndjson", new ByteArrayInputStream(BODY), -1, "application/fhir+ndjson");
            assertThat(client.getObjectAsBytes(r -> r.bucket(BUCKET).key("bulk/j1/Patient-1.ndjson")).asByteArray())
                    .isEqualTo(BODY);
        }
    }

    @Test
    void byDefaultTheSelfSignedServerIsRefused() {
        S3Target target = S3Target.create(settings(), new OutboundTls(camel, null, null, "PKCS12", false));
        assertThatThrownBy(() -> target.put("bulk/j1/Patient-1.ndjson", new ByteArrayInputStream(BODY), -1,
                "application/fhir+ndjson"))
                .satisfies(e -> assertThat(TlsFailures.describe(e)).get().asString().contains("not trusted"));
    }

    @Test
    void theTrustStoreIsTrusted() throws Exception {
        putAndReadBack(new OutboundTls(camel, TestTls.stores().trustStore().toString(), TestTls.TRUST_STORE_PASSWORD,
                "PKCS12", false));
    }

    @Test
    void insecureTrustsAnything() throws Exception {
        putAndReadBack(new OutboundTls(camel, null, null, "PKCS12", true));
    }
}
