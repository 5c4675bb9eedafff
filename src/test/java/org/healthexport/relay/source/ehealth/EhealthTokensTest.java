package org.healthexport.relay.source.ehealth;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.healthexport.relay.auth.AuthException;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.sandbox.EhealthSandbox;
import org.healthexport.relay.sandbox.SandboxServer.RecordedRequest;
import org.healthexport.relay.job.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The token of an eHealth source against the sandbox's Mithril-shaped POST /oauth/tokens. */
class EhealthTokensTest {
    EhealthSandbox sandbox;
    final HttpClient http = HttpClient.newHttpClient();
    final MutableClock clock = new MutableClock(Instant.now());

    @BeforeEach
    void start() {
        sandbox = new EhealthSandbox("127.0.0.1", 0).registerClient("mis-client", "mis-secret", "mis-refresh")
                .requireApiKey("key-1").tokenLifetimeSeconds(600);
        sandbox.start();
    }

    @AfterEach
    void stop() {
        sandbox.stop();
    }

    SourceConfig source(String... keyValues) throws Exception {
        Properties p = new Properties();
        p.setProperty("relay.sources.ehr.base-url", sandbox.baseUrl());
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty("relay.sources.ehr." + keyValues[i], keyValues[i + 1]);
        }
        return new EhealthFixture(p).source();
    }

    @Test
    void theConfiguredTokenFirstThenTheRefreshTokenOnceRefused() throws Exception {
        EhealthTokens tokens = EhealthTokens.from(source("auth.token", "configured", "auth.refresh-token", "mis-refresh",
                "auth.client-id", "mis-client", "auth.client-secret", "mis-secret"), "key-1", http, clock);
        assertThat(tokens.current()).contains("configured");
        assertThat(tokens.current()).contains("configured");
        assertThat(sandbox.requests()).isEmpty();

        tokens.invalidate();
        String renewed = tokens.current().orElseThrow();
        assertThat(renewed).startsWith("ehealth-at-");
        assertThat(tokens.refreshes()).isEqualTo(1);
        assertThat(tokens.current()).contains(renewed);

        RecordedRequest call = sandbox.requests().get(0);
        assertThat(call.method()).isEqualTo("POST");
        assertThat(call.path()).isEqualTo("/oauth/tokens");
        var body = new ObjectMapper().readTree(call.body()).path("token");
        assertThat(body.path("grant_type").asText()).isEqualTo("refresh_token");
        assertThat(body.path("client_id").asText()).isEqualTo("mis-client");
        assertThat(body.path("client_secret").asText()).isEqualTo("mis-secret");
        assertThat(body.path("refresh_token").asText()).isEqualTo("mis-refresh");
        assertThat(body.has("scope")).isFalse();
        assertThat(sandbox.apiKeyUses()).extracting(EhealthSandbox.ApiKeyUse::apiKey).containsExactly("key-1");
    }

    @Test
    void aRefreshedTokenIsRenewedAheadOfItsExpiry() throws Exception {
        EhealthTokens tokens = EhealthTokens.from(source("auth.refresh-token-file", write("mis-refresh"),
                "auth.client-id", "mis-client", "auth.client-secret-file", write("mis-secret"), "auth.scope",
                "job:read encounter:read"), "key-1", http, clock);
        String first = tokens.current().orElseThrow(); // no access token configured: refreshed at once
        assertThat(new ObjectMapper().readTree(sandbox.requests().get(0).body()).path("token").path("scope").asText())
                .isEqualTo("job:read encounter:read");
        clock.advance(Duration.ofSeconds(500));
        assertThat(tokens.current()).contains(first);
        clock.advance(Duration.ofSeconds(60)); // within a minute of expires_at
        assertThat(tokens.current().orElseThrow()).isNotEqualTo(first);
        assertThat(tokens.refreshes()).isEqualTo(2);
    }

    @Test
    void aRefusedRefreshIsAPermanentErrorWithoutSecrets() throws Exception {
        EhealthTokens tokens = EhealthTokens.from(source("auth.refresh-token", "mis-refresh", "auth.client-id",
                "mis-client", "auth.client-secret", "wrong-secret"), "key-1", http, clock);
        assertThatThrownBy(tokens::current).isInstanceOfSatisfying(AuthException.class, e -> {
            assertThat(e.isPermanent()).isTrue();
            assertThat(e.getMessage()).contains("HTTP 401").contains("invalid_client").doesNotContain("wrong-secret")
                    .doesNotContain("mis-refresh");
        });
    }

    @Test
    void aTokenFileIsReadAgainAfterA401() throws Exception {
        Path file = Path.of(write("token-1"));
        EhealthTokens tokens = EhealthTokens.from(source("auth.token-file", file.toString()), null, http, clock);
        assertThat(tokens.current()).contains("token-1");
        Files.writeString(file, "token-2\n");
        assertThat(tokens.current()).contains("token-1");
        tokens.invalidate();
        assertThat(tokens.current()).contains("token-2");
        assertThat(tokens.canRefresh()).isFalse();
    }

    @Test
    void aRefreshTokenWithoutTheClientIsAConfigurationError() {
        assertThatThrownBy(() -> EhealthTokens.from(source("auth.refresh-token", "r"), null, http, clock))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("auth.client-id");
        assertThatThrownBy(() -> EhealthTokens.from(source("auth.token-file", "/no/such/file"), null, http, clock))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("auth.token-file");
    }

    @Test
    void noTokenAtAllSendsNone() throws Exception {
        assertThat(EhealthTokens.from(source(), null, http, clock).current()).isEmpty();
    }

    @Test
    void theSandboxRefusesAnExpiredOrUnknownToken() throws Exception {
        EhealthTokens tokens = EhealthTokens.from(source("auth.refresh-token", "mis-refresh", "auth.client-id",
                "mis-client", "auth.client-secret", "mis-secret"), "key-1", http, clock);
        String token = tokens.current().orElseThrow();
        String jobId = sandbox.processedWithLinks(1, 1);
        assertThat(get(jobId, token, "key-1")).isEqualTo(200);
        assertThat(get(jobId, token, "wrong-key")).isEqualTo(401);
        assertThat(get(jobId, "made-up", "key-1")).isEqualTo(401);
        sandbox.expireToken(token);
        assertThat(get(jobId, token, "key-1")).isEqualTo(401);
        assertThat(get(sandbox.newJobId(), tokens.current().orElseThrow(), "key-1")).isEqualTo(401); // still cached
        tokens.invalidate();
        assertThat(get(sandbox.newJobId(), tokens.current().orElseThrow(), "key-1")).isEqualTo(404);
    }

    int get(String jobId, String token, String apiKey) throws Exception {
        var request = HttpRequest.newBuilder(URI.create(sandbox.baseUrl() + "/api/jobs/" + jobId))
                .header("Authorization", "Bearer " + token).header("api-key", apiKey).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    static String write(String content) throws Exception {
        Path f = Files.createTempFile("ehealth-secret", ".txt");
        Files.writeString(f, content + "\n");
        return f.toString();
    }


}
