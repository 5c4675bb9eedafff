package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.healthexport.relay.auth.AccessTokens;
import org.healthexport.relay.auth.AuthException;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A HealthEx token from {@code POST /v1/auth/token}: a researcher token for {@code {apiKey, apiSecret}}, a
 * patient token for {@code {email, password}}. The answer is {@code {"token": "<JWT>", "expiration": <epoch s>}},
 * valid 24 hours; the token is cached and renewed ahead of its expiry (a tenth of its life before, at most an
 * hour), and forgotten after a 401 so the next call logs in again. The credentials are read from their supplier
 * at each login (a rotated secret file is picked up) and never appear in a message.
 */
public class HealthexTokens implements AccessTokens {
    static final Duration DEFAULT_LIFETIME = Duration.ofHours(24);
    static final Duration MAX_MARGIN = Duration.ofHours(1);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI tokenUrl;
    private final Supplier<Map<String, String>> credentials;
    private final String who;
    private final HttpClient http;
    private final Clock clock;
    private String token;
    private Instant expiresAt;
    private Instant renewAt = Instant.MIN;
    private volatile int logins;

    /**
     * @param who what the token is for, for messages ("researcher of source hx", "patient pat-1"): never a secret
     */
    public HealthexTokens(URI tokenUrl, Supplier<Map<String, String>> credentials, String who, HttpClient http,
                          Clock clock) {
        this.tokenUrl = tokenUrl;
        this.credentials = credentials;
        this.who = who;
        this.http = http;
        this.clock = clock;
    }

    @Override
    public synchronized Optional<String> current() {
        if (token == null || !clock.instant().isBefore(renewAt)) {
            login();
        }
        return Optional.of(token);
    }

    @Override
    public synchronized void invalidate() {
        token = null;
    }

    /** How many tokens were fetched (tests, metrics). */
    public int logins() {
        return logins;
    }

    /** When the current token expires, if one is held. */
    public synchronized Optional<Instant> expiresAt() {
        return token == null ? Optional.empty() : Optional.ofNullable(expiresAt);
    }

    private void login() {
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(credentials.get());
        } catch (IOException e) {
            throw new AuthException("Cannot write the login of the " + who, true, null);
        }
        HttpRequest request = HttpRequest.newBuilder(tokenUrl).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AuthException("HealthEx token endpoint " + tokenUrl + " unreachable for the " + who + ": "
                    + e.getClass().getSimpleName(), false, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuthException("Interrupted while logging in the " + who, false, e);
        }
        int code = response.statusCode();
        if (code / 100 != 2) {
            // 429 (the endpoint is rate-limited) and 5xx pass; a refused login does not fix itself
            boolean permanent = code != 429 && code != 408 && code < 500;
            throw new AuthException("HealthEx refused the login of the " + who + " (HTTP " + code
                    + HealthexErrors.describe(response.body()) + ")", permanent, null);
        }
        JsonNode json;
        try {
            json = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new AuthException("HealthEx token endpoint answered unreadable JSON for the " + who, false, e);
        }
        String value = json == null ? null : json.path("token").asText(null);
        if (value == null || value.isBlank()) {
            throw new AuthException("HealthEx token endpoint answered without a token for the " + who, true, null);
        }
        Instant now = clock.instant();
        Instant expiry = expiry(json, value, now);
        Duration life = Duration.between(now, expiry);
        Duration margin = life.dividedBy(10);
        if (margin.compareTo(MAX_MARGIN) > 0) {
            margin = MAX_MARGIN;
        }
        token = value;
        expiresAt = expiry;
        renewAt = life.isNegative() || life.isZero() ? now : expiry.minus(margin);
        logins++;
    }

    /** {@code expiration} (epoch seconds, or milliseconds if that large), else the JWT's {@code exp}, else 24 h. */
    static Instant expiry(JsonNode answer, String token, Instant now) {
        JsonNode expiration = answer.path("expiration");
        if (expiration.isNumber() || (expiration.isTextual() && expiration.asText().matches("\\d+"))) {
            long v = expiration.asLong();
            return v > 100_000_000_000L ? Instant.ofEpochMilli(v) : Instant.ofEpochSecond(v);
        }
        if (expiration.isTextual()) {
            try {
                return Instant.parse(expiration.asText());
            } catch (RuntimeException ignored) {
                // fall through to the JWT
            }
        }
        String[] parts = token.split("\\.");
        if (parts.length == 3) {
            try {
                JsonNode claims = JSON.readTree(new String(Base64.getUrlDecoder().decode(parts[1]),
                        StandardCharsets.UTF_8));
                if (claims.path("exp").isNumber()) {
                    return Instant.ofEpochSecond(claims.path("exp").asLong());
                }
            } catch (IOException | IllegalArgumentException ignored) {
                // not a JWT we can read: the documented lifetime
            }
        }
        return now.plus(DEFAULT_LIFETIME);
    }

    @Override
    public String toString() {
        return "HealthexTokens[" + who + "]";
    }
}
