package org.healthexport.relay.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * OAuth 2.0 client credentials grant (RFC 6749 4.4). Tokens are cached and renewed when less than a fifth of
 * their life (at most a minute) is left, so a 5-minute Redox token is renewed during a long download.
 */
public class ClientCredentialsTokens implements AccessTokens {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Supplier<URI> tokenUrl;
    private final ClientAuthentication client;
    private final String scope;
    private final HttpClient http;
    private final Clock clock;
    private final Map<String, String> extraForm;
    private String token;
    private Instant renewAt = Instant.MIN;
    private volatile int renewals;

    public ClientCredentialsTokens(Supplier<URI> tokenUrl, ClientAuthentication client, String scope,
                                   HttpClient http, Clock clock, Map<String, String> extraForm) {
        this.tokenUrl = tokenUrl;
        this.client = client;
        this.scope = scope;
        this.http = http;
        this.clock = clock;
        this.extraForm = extraForm == null ? Map.of() : extraForm;
    }

    @Override
    public synchronized Optional<String> current() {
        if (token == null || !clock.instant().isBefore(renewAt)) {
            fetch();
        }
        return Optional.of(token);
    }

    @Override
    public synchronized void invalidate() {
        token = null;
    }

    /** How many tokens were fetched: a metric, and how tests see renewal. */
    public int renewals() {
        return renewals;
    }

    private void fetch() {
        URI url = tokenUrl.get();
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "client_credentials");
        if (scope != null && !scope.isBlank()) {
            form.put("scope", scope);
        }
        form.putAll(extraForm);
        String authorization = client.apply(url, form);
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AuthException("Token endpoint " + url + " unreachable: " + e.getClass().getSimpleName(), false, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuthException("Interrupted while fetching a token from " + url, false, e);
        }
        int code = response.statusCode();
        if (code / 100 != 2) {
            String reason = describeError(response.body());
            // 5xx and 429 may pass; any other refusal (invalid_client, bad kid...) will not fix itself.
            boolean permanent = code != 429 && code < 500;
            throw new AuthException("Token endpoint " + url + " answered " + code + reason, permanent, null);
        }
        try {
            JsonNode json = JSON.readTree(response.body());
            String accessToken = json.path("access_token").asText(null);
            if (accessToken == null || accessToken.isBlank()) {
                throw new AuthException("Token endpoint " + url + " answered without access_token", true, null);
            }
            long life = json.path("expires_in").asLong(300);
            long margin = Math.min(60, Math.max(1, life / 5));
            token = accessToken;
            renewAt = clock.instant().plusSeconds(Math.max(1, life - margin));
            renewals++;
        } catch (IOException e) {
            throw new AuthException("Token endpoint " + url + " answered unreadable JSON", false, e);
        }
    }

    /** The OAuth error and description, cut short; never the request (which holds the secret). */
    static String describeError(String body) {
        try {
            JsonNode json = JSON.readTree(body);
            String error = json.path("error").asText("");
            String description = json.path("error_description").asText(json.path("message").asText(""));
            String text = (error + (description.isEmpty() ? "" : ": " + description)).trim();
            return text.isEmpty() ? "" : " (" + cut(text) + ")";
        } catch (IOException | RuntimeException notJson) {
            return body == null || body.isBlank() ? "" : " (" + cut(body.trim()) + ")";
        }
    }

    private static String cut(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }
}
