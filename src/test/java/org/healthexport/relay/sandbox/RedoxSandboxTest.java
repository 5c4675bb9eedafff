package org.healthexport.relay.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import org.healthexport.relay.auth.ClientAssertion;
import org.healthexport.relay.auth.ClientAuthentication;
import org.healthexport.relay.auth.ClientCredentialsTokens;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The Redox sandbox's own answers (what the route tests rely on). */
class RedoxSandboxTest {
    RedoxSandbox sandbox;
    String token;
    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();

    @BeforeEach
    void start() throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_384).keyID("es-key").generate();
        sandbox = new RedoxSandbox("127.0.0.1", 0).registerKey("client-1", key.toPublicJWK());
        sandbox.start();
        ClientAssertion assertion = new ClientAssertion("client-1", "es-key", JWSAlgorithm.ES384, new ECDSASigner(key),
                Clock.systemUTC());
        token = new ClientCredentialsTokens(() -> URI.create(sandbox.tokenUrl()),
                new ClientAuthentication.PrivateKeyJwt(assertion), null, http, Clock.systemUTC(), Map.of())
                .current().orElseThrow();
    }

    @AfterEach
    void stop() {
        sandbox.stop();
    }

    HttpResponse<String> get(URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A complete export's envelope is one JSON object at every poll. The sandbox once built the manifest twice and
     * cut the second by the first's length: when the clock printed the two transactionTimes with different lengths
     * (.123456789Z, .123456Z: about one poll in 450) it answered 500, which a route test saw as an extra poll.
     */
    @Test
    void aCompleteExportsEnvelopeIsWholeJsonAtEveryPoll() throws Exception {
        HttpResponse<String> kickoff = get(URI.create(sandbox.baseUrl()
                + "/fhir/R4/dest/Development/Group/g-1/$export"));
        assertThat(kickoff.statusCode()).isEqualTo(202);
        URI status = URI.create(kickoff.headers().firstValue("Content-Location").orElseThrow());
        sandbox.pollsBeforeReady(0);
        for (int i = 0; i < 3000; i++) {
            HttpResponse<String> answer = get(status);
            assertThat(answer.statusCode()).as("poll " + i + ": " + answer.body()).isEqualTo(200);
            JsonNode envelope = json.readTree(answer.body());
            assertThat(envelope.path("status").asInt()).isEqualTo(200);
            assertThat(envelope.path("output")).hasSize(2);
        }
    }
}
