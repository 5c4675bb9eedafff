package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.healthexport.relay.auth.AuthException;
import org.healthexport.relay.sandbox.HealthexSandbox;
import org.healthexport.relay.job.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Researcher and patient logins against the sandbox's token endpoint, with a clock the test moves. */
class HealthexTokensTest {
    private HealthexSandbox sandbox;
    private MutableClock clock;
    private URI tokenUrl;

    @BeforeEach
    void start() throws Exception {
        sandbox = HealthexSandbox.demo("127.0.0.1");
        sandbox.start();
        sandbox.patient("pat-t").login("t@patients.test", "pw-t");
        clock = new MutableClock(Instant.now());
        tokenUrl = URI.create(sandbox.baseUrl() + "/v1/auth/token");
    }

    @AfterEach
    void stop() {
        sandbox.stop();
    }

    private HealthexTokens researcher(String key, String secret) {
        return new HealthexTokens(tokenUrl, () -> Map.of("apiKey", key, "apiSecret", secret), "researcher of test",
                HttpClient.newHttpClient(), clock);
    }

    @Test
    void researcherTokenIsCachedAndRenewedAnHourBeforeItsDayEnds() {
        HealthexTokens tokens = researcher(HealthexSandbox.DEFAULT_API_KEY, HealthexSandbox.DEFAULT_API_SECRET);
        String first = tokens.current().orElseThrow();
        assertThat(sandbox.roleOf("Bearer " + first)).isEqualTo(HealthexSandbox.RESEARCHER);
        assertThat(tokens.expiresAt().orElseThrow())
                .isBetween(clock.instant().plus(Duration.ofHours(24)).minusSeconds(60),
                        Instant.now().plus(Duration.ofHours(24)).plusSeconds(60));

        clock.advance(Duration.ofHours(22).plusMinutes(59));
        assertThat(tokens.current().orElseThrow()).isEqualTo(first);
        assertThat(tokens.logins()).isEqualTo(1);

        clock.advance(Duration.ofMinutes(2)); // 23h01: within the last hour of its life
        String second = tokens.current().orElseThrow();
        assertThat(second).isNotEqualTo(first);
        assertThat(tokens.logins()).isEqualTo(2);
        assertThat(sandbox.requests()).hasSize(2).allMatch(r -> r.body().contains("\"apiKey\""));
    }

    @Test
    void aShortLivedTokenIsRenewedInTheLastTenthOfItsLife() {
        sandbox.tokenLifetime(Duration.ofSeconds(100));
        HealthexTokens tokens = researcher(HealthexSandbox.DEFAULT_API_KEY, HealthexSandbox.DEFAULT_API_SECRET);
        String first = tokens.current().orElseThrow();
        clock.advance(Duration.ofSeconds(85));
        assertThat(tokens.current()).contains(first);
        clock.advance(Duration.ofSeconds(6));
        assertThat(tokens.current().orElseThrow()).isNotEqualTo(first);
    }

    @Test
    void invalidateAfterA401LogsInAgain() {
        HealthexTokens tokens = researcher(HealthexSandbox.DEFAULT_API_KEY, HealthexSandbox.DEFAULT_API_SECRET);
        String first = tokens.current().orElseThrow();
        tokens.invalidate();
        assertThat(tokens.current().orElseThrow()).isNotEqualTo(first);
        assertThat(tokens.logins()).isEqualTo(2);
    }

    @Test
    void patientLoginGivesAPatientToken() {
        HealthexPatient patient = new HealthexPatient("pat-t", "ext", "t@patients.test", "pw-t", null);
        HealthexTokens tokens = new HealthexTokens(tokenUrl, patient::login, "patient pat-t",
                HttpClient.newHttpClient(), clock);
        String token = tokens.current().orElseThrow();
        assertThat(sandbox.roleOf("Bearer " + token)).isEqualTo(HealthexSandbox.PATIENT);
        assertThat(sandbox.subjectOf("Bearer " + token)).isEqualTo("pat-t");
        assertThat(sandbox.requests().get(0).body()).contains("\"email\":\"t@patients.test\"");
    }

    @Test
    void aRefusedLoginIsPermanentAndNeverShowsTheSecret() {
        HealthexTokens tokens = researcher(HealthexSandbox.DEFAULT_API_KEY, "wrong-secret-value");
        assertThatThrownBy(tokens::current).isInstanceOf(AuthException.class)
                .satisfies(e -> assertThat(((AuthException) e).isPermanent()).isTrue())
                .hasMessageContaining("HTTP 401").hasMessageContaining("researcher of test")
                .message().doesNotContain("wrong-secret-value");
    }

    @Test
    void rateLimitingAndServerErrorsAreNotPermanent() {
        HealthexTokens tokens = researcher(HealthexSandbox.DEFAULT_API_KEY, HealthexSandbox.DEFAULT_API_SECRET);
        sandbox.queueTokenFault(429);
        assertThatThrownBy(tokens::current).isInstanceOf(AuthException.class)
                .satisfies(e -> assertThat(((AuthException) e).isPermanent()).isFalse());
        sandbox.queueTokenFault(503);
        assertThatThrownBy(tokens::current).satisfies(e -> assertThat(((AuthException) e).isPermanent()).isFalse());
        assertThat(tokens.current()).isPresent();
    }

    @Test
    void expiryIsReadFromExpirationOrTheJwt() throws Exception {
        var json = new ObjectMapper();
        Instant now = Instant.parse("2025-01-01T00:00:00Z");
        assertThat(HealthexTokens.expiry(json.readTree("{\"expiration\":1738368725}"), "x", now))
                .isEqualTo(Instant.ofEpochSecond(1738368725));
        assertThat(HealthexTokens.expiry(json.readTree("{\"expiration\":1738368725000}"), "x", now))
                .isEqualTo(Instant.ofEpochSecond(1738368725));
        String payload = Base64.getUrlEncoder().withoutPadding()
                .encodeToString("{\"exp\":1738368000}".getBytes());
        assertThat(HealthexTokens.expiry(json.readTree("{}"), "h." + payload + ".s", now))
                .isEqualTo(Instant.ofEpochSecond(1738368000));
        assertThat(HealthexTokens.expiry(json.readTree("{}"), "opaque", now)).isEqualTo(now.plus(Duration.ofHours(24)));
    }

}
