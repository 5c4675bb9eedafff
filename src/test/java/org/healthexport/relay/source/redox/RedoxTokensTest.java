package org.healthexport.relay.source.redox;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.healthexport.relay.auth.AuthException;
import org.healthexport.relay.auth.ClientAssertion;
import org.healthexport.relay.auth.ClientAuthentication;
import org.healthexport.relay.auth.ClientCredentialsTokens;
import org.healthexport.relay.job.MutableClock;
import org.healthexport.relay.sandbox.RedoxSandbox;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Redox's token endpoint (the sandbox, word for word as documented) and the relay's renewal of 5-minute tokens. */
class RedoxTokensTest {
    RedoxSandbox sandbox;
    ECKey key;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        key = new ECKeyGenerator(Curve.P_384).keyID("es-key").generate();
        sandbox = new RedoxSandbox("127.0.0.1", 0).registerKey("client-1", key.toPublicJWK());
        sandbox.start();
    }

    @AfterEach
    void stop() {
        sandbox.stop();
    }

    ClientCredentialsTokens tokens(String kid) throws Exception {
        return tokens(kid, Clock.systemUTC());
    }

    /** {@code clock}: when the relay thinks it is, for its tokens' lifetimes (the assertion is signed for now). */
    ClientCredentialsTokens tokens(String kid, Clock clock) throws Exception {
        ClientAssertion assertion = new ClientAssertion("client-1", kid, JWSAlgorithm.ES384, new ECDSASigner(key),
                Clock.systemUTC());
        return new ClientCredentialsTokens(() -> URI.create(sandbox.tokenUrl()),
                new ClientAuthentication.PrivateKeyJwt(assertion), null, http, clock, Map.of());
    }

    String post(String contentType, String form) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(sandbox.tokenUrl()))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(form)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + new ObjectMapper().readTree(r.body()).path("error_description").asText();
    }

    @Test
    void documentedRefusals() throws Exception {
        String assertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
        assertThat(post("application/json", "{}")).isEqualTo("400 x-www-form-urlencoded content-type required");
        String form = "application/x-www-form-urlencoded";
        assertThat(post(form, "")).isEqualTo("400 Missing grant_type parameter");
        assertThat(post(form, "grant_type=password")).isEqualTo("400 The grant_type parameter should equal 'client_credentials'");
        assertThat(post(form, "grant_type=client_credentials")).isEqualTo("400 Missing client assertion type");
        assertThat(post(form, "grant_type=client_credentials&client_assertion_type=x")).isEqualTo("400 Invalid client assertion type");
        assertThat(post(form, "grant_type=client_credentials&client_assertion_type=" + assertion))
                .isEqualTo("400 Missing client assertion");
        // a signed JWT without kid
        var noKid = new SignedJWT(new JWSHeader(JWSAlgorithm.ES384),
                new JWTClaimsSet.Builder().issuer("client-1").subject("client-1")
                        .audience(sandbox.tokenUrl()).expirationTime(new Date(System.currentTimeMillis() + 60000))
                        .jwtID("j1").build());
        noKid.sign(new ECDSASigner(key));
        assertThat(post(form, "grant_type=client_credentials&client_assertion_type=" + assertion + "&client_assertion="
                + noKid.serialize())).isEqualTo("401 JWT header kid property is required");
    }

    @Test
    void anUnknownKeyIsAPermanentRefusalWithRedoxsText() throws Exception {
        assertThatThrownBy(() -> tokens("other-kid").current()).isInstanceOf(AuthException.class)
                .hasMessageContaining("Public key not found, check client_id, kid and Redox dashboard settings")
                .matches(e -> ((AuthException) e).isPermanent());
    }

    @Test
    void threeSecondTokensAreRenewedAheadOfExpiry() throws Exception {
        sandbox.tokenLifetimeSeconds(3);
        MutableClock clock = new MutableClock(Instant.now());
        ClientCredentialsTokens tokens = tokens("es-key", clock);
        String first = tokens.current().orElseThrow();
        clock.advance(Duration.ofMillis(1000));
        assertThat(tokens.current()).contains(first);
        clock.advance(Duration.ofMillis(1200));
        // past 2 s of 3, less than a fifth (rounded up to a second) of the life is left: a new token
        String second = tokens.current().orElseThrow();
        assertThat(second).isNotEqualTo(first);
        assertThat(tokens.renewals()).isEqualTo(2);
        assertThat(sandbox.tokensIssued("client-1")).isEqualTo(2);
    }
}
