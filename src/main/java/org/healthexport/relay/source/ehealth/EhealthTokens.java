package org.healthexport.relay.source.ehealth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.healthexport.relay.auth.AccessTokens;
import org.healthexport.relay.auth.AuthException;
import org.healthexport.relay.auth.SourceAuth;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Optional;

/**
 * The eHealth access token of one source. The MIS obtained it through Mithril's authorization-code flow (a
 * person logs in, so the relay cannot start that flow); the relay is given the access token
 * ({@code auth.token} or {@code auth.token-file}) and, optionally, the refresh token with the MIS client's id
 * and secret, which it exchanges at {@code POST {base}/oauth/tokens} when the access token expires or is
 * refused:
 * {@code {"token":{"grant_type":"refresh_token","client_id":…,"client_secret":…,"refresh_token":…}}} answered
 * 201 with {@code data.value} (the token) and {@code data.expires_at} (Unix seconds). A token file is read again
 * on every renewal, so a token rotated by another process is picked up.
 */
public class EhealthTokens implements AccessTokens {
    private static final Logger LOG = LoggerFactory.getLogger(EhealthTokens.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration MAX_MARGIN = Duration.ofSeconds(60);

    private final String sourceId;
    private final String staticToken;
    private final Path tokenFile;
    private final URI tokenUrl;
    private final String clientId;
    private final String clientSecret;
    private final String apiKey;
    private final String scope;
    private final HttpClient http;
    private final Clock clock;
    private String refreshToken;
    private String accessToken;
    private Instant expiresAt;
    private boolean loaded;
    private volatile int refreshes;

    EhealthTokens(String sourceId, String staticToken, Path tokenFile, URI tokenUrl, String clientId,
                  String clientSecret, String refreshToken, String apiKey, String scope, HttpClient http, Clock clock) {
        this.sourceId = sourceId;
        this.staticToken = staticToken;
        this.tokenFile = tokenFile;
        this.tokenUrl = tokenUrl;
        this.clientId = clientId;
        this.clientSecret = clientSecret;
        this.refreshToken = refreshToken;
        this.apiKey = apiKey;
        this.scope = scope;
        this.http = http;
        this.clock = clock;
    }

    /**
     * Reads {@code auth.token}/{@code auth.token-file}, {@code auth.refresh-token}(-file),
     * {@code auth.client-id}, {@code auth.client-secret}(-file), {@code auth.token-url} and {@code auth.scope}
     * (sent with the refresh when set); fails at startup
     * when a refresh token is given without the client's id and secret.
     */
    public static EhealthTokens from(SourceConfig source, String apiKey, HttpClient http, Clock clock) {
        String token = source.property("auth.token").filter(s -> !s.isBlank()).orElse(null);
        Path file = source.property("auth.token-file").filter(s -> !s.isBlank()).map(Path::of).orElse(null);
        String refresh = optionalSecret(source, "auth.refresh-token");
        String clientId = null;
        String clientSecret = null;
        URI url = null;
        if (refresh != null) {
            clientId = source.property("auth.client-id").filter(s -> !s.isBlank()).orElseThrow(() ->
                    new ConfigurationException("Source " + source.id() + ": auth.refresh-token needs auth.client-id"
                            + " (the MIS client id, its legal entity id) and auth.client-secret"));
            clientSecret = SourceAuth.secret(source, "auth.client-secret");
            url = source.property("auth.token-url").map(URI::create)
                    .orElseGet(() -> source.requireBaseUrl().resolve("oauth/tokens"));
        }
        EhealthTokens tokens = new EhealthTokens(source.id(), token, file, url, clientId, clientSecret, refresh,
                apiKey, source.property("auth.scope").filter(s -> !s.isBlank()).orElse(null), http, clock);
        if (token == null && file != null) {
            tokens.readTokenFile(); // fails at startup on an unreadable file
        }
        if (token == null && file == null && refresh == null) {
            LOG.warn("Source {} has no eHealth token (auth.token, auth.token-file or auth.refresh-token):"
                    + " requests go without Authorization", source.id());
        }
        return tokens;
    }

    static String optionalSecret(SourceConfig source, String name) {
        if (source.property(name).filter(s -> !s.isBlank()).isEmpty()
                && source.property(name + "-file").filter(s -> !s.isBlank()).isEmpty()) {
            return null;
        }
        return SourceAuth.secret(source, name);
    }

    @Override
    public synchronized Optional<String> current() {
        if (accessToken != null && (expiresAt == null || clock.instant().isBefore(expiresAt.minus(MAX_MARGIN)))) {
            return Optional.of(accessToken);
        }
        if (!loaded && (staticToken != null || tokenFile != null)) {
            // the configured token first; the refresh token is only spent once that one is refused or expires
            loaded = true;
            accessToken = configuredToken();
            return Optional.of(accessToken);
        }
        loaded = true;
        if (refreshToken != null) {
            refresh();
        } else {
            accessToken = staticToken != null || tokenFile != null ? configuredToken() : null;
        }
        return Optional.ofNullable(accessToken);
    }

    /** The server answered 401: the next {@link #current()} refreshes (or reads the token file again). */
    @Override
    public synchronized void invalidate() {
        accessToken = null;
        expiresAt = null;
        loaded = true;
    }

    private String configuredToken() {
        return staticToken != null ? staticToken : readTokenFile();
    }

    /** How many times the refresh token was exchanged: a metric, and how tests see renewal. */
    public int refreshes() {
        return refreshes;
    }

    boolean canRefresh() {
        return refreshToken != null;
    }

    private String readTokenFile() {
        try {
            String value = Files.readString(tokenFile).strip();
            if (value.isEmpty()) {
                throw new ConfigurationException("Source " + sourceId + ": auth.token-file " + tokenFile + " is empty");
            }
            return value;
        } catch (IOException e) {
            throw new ConfigurationException("Source " + sourceId + ": cannot read auth.token-file " + tokenFile);
        }
    }

    private void refresh() {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode token = body.putObject("token").put("grant_type", "refresh_token").put("client_id", clientId)
                .put("client_secret", clientSecret).put("refresh_token", refreshToken);
        if (scope != null) {
            token.put("scope", scope);
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(tokenUrl).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (apiKey != null) {
            request.header("api-key", apiKey);
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AuthException("eHealth token endpoint " + tokenUrl + " unreachable: "
                    + e.getClass().getSimpleName(), false, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuthException("Interrupted while renewing the eHealth token", false, e);
        }
        int code = response.statusCode();
        if (code / 100 != 2) {
            boolean permanent = code != 429 && code != 408 && code < 500;
            throw new AuthException("eHealth token endpoint " + tokenUrl + " refused the refresh token of source "
                    + sourceId + ": HTTP " + code + describeError(response.body()), permanent, null);
        }
        JsonNode root;
        try {
            root = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new AuthException("eHealth token endpoint " + tokenUrl + " answered unreadable JSON", false, e);
        }
        JsonNode data = root == null ? null : root.path("data");
        String value = data == null ? null : data.path("value").asText(null);
        Instant expires = data == null ? null : instant(data.get("expires_at"));
        String newRefresh = data == null ? null : data.path("details").path("refresh_token").asText(null);
        if (value == null && root != null) {
            // a gateway that speaks plain OAuth 2.0
            value = root.path("access_token").asText(null);
            if (root.hasNonNull("expires_in")) {
                expires = clock.instant().plusSeconds(root.path("expires_in").asLong());
            }
            newRefresh = root.path("refresh_token").asText(null);
        }
        if (value == null || value.isBlank()) {
            throw new AuthException("eHealth token endpoint " + tokenUrl + " answered without data.value", true, null);
        }
        accessToken = value;
        expiresAt = expires;
        if (newRefresh != null && !newRefresh.isBlank()) {
            refreshToken = newRefresh;
        }
        refreshes++;
        LOG.info("eHealth access token of source {} renewed with the refresh token{}", sourceId,
                expires == null ? "" : " (expires " + expires + ")");
    }

    private static Instant instant(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isNumber() || node.asText().matches("\\d+")) {
            long v = node.asLong();
            return v > 100_000_000_000L ? Instant.ofEpochMilli(v) : Instant.ofEpochSecond(v);
        }
        try {
            return OffsetDateTime.parse(node.asText()).toInstant();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** eHealth's error type and message, cut short; never the request (which holds the secrets). */
    static String describeError(String body) {
        try {
            JsonNode root = JSON.readTree(body);
            JsonNode error = root.path("error");
            String text = error.isTextual() ? error.asText()
                    : (error.path("type").asText("") + " " + error.path("message").asText(
                            root.path("error_description").asText(""))).trim();
            return text.isEmpty() ? "" : " (" + (text.length() > 300 ? text.substring(0, 300) + "…" : text) + ")";
        } catch (IOException | RuntimeException notJson) {
            return "";
        }
    }

    @Override
    public String toString() {
        return "EhealthTokens[" + sourceId + (refreshToken != null ? ", refresh at " + tokenUrl : "") + "]";
    }
}
