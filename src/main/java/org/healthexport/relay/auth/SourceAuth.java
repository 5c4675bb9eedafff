package org.healthexport.relay.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.ExportJob;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The tokens of every source, built from {@code relay.sources.<id>.auth.*}, and the route step that puts the
 * job's bearer token on the outgoing request.
 */
public class SourceAuth {
    private final Sources sources;
    private final HttpClient http;
    private final Clock clock;
    private final Map<String, AccessTokens> bySource = new ConcurrentHashMap<>();

    public SourceAuth(Sources sources, HttpClient http, Clock clock) {
        this.sources = sources;
        this.http = http;
        this.clock = clock;
    }

    /** Route step: sets {@code Authorization: Bearer} for the job's source, or removes it when none is needed. */
    public void authorize(@ExchangeProperty("job") ExportJob job, Exchange exchange) {
        exchange.getMessage().removeHeader("Authorization");
        tokens(job.sourceId()).current()
                .ifPresent(t -> exchange.getMessage().setHeader("Authorization", "Bearer " + t));
    }

    /** Route step for calls made before a job exists (a kick-off). */
    public void authorizeSource(String sourceId, Exchange exchange) {
        exchange.getMessage().removeHeader("Authorization");
        tokens(sourceId).current()
                .ifPresent(t -> exchange.getMessage().setHeader("Authorization", "Bearer " + t));
    }

    /** Route step after a 401: the next request fetches a fresh token. */
    public void renew(@ExchangeProperty("job") ExportJob job) {
        tokens(job.sourceId()).invalidate();
    }

    public AccessTokens tokens(String sourceId) {
        return bySource.computeIfAbsent(sourceId, id -> build(sources.get(id)));
    }

    /** Lets a kind with its own token scheme (HealthEx, eHealth) register it for its source. */
    public void register(String sourceId, AccessTokens tokens) {
        bySource.put(sourceId, tokens);
    }

    private AccessTokens build(SourceConfig source) {
        String mode = source.property("auth.mode", "none");
        return switch (mode) {
            case "none" -> AccessTokens.NONE;
            case "bearer" -> AccessTokens.fixed(secret(source, "auth.token"));
            case "client-credentials" -> new ClientCredentialsTokens(tokenUrl(source), clientSecret(source),
                    source.property("auth.scope", null), http, clock, Map.of());
            case "smart-backend", "private-key-jwt" -> new ClientCredentialsTokens(tokenUrl(source),
                    new ClientAuthentication.PrivateKeyJwt(ClientAssertion.fromKeyFile(
                            source.requireProperty("auth.client-id"), source.property("auth.key-id", null),
                            source.property("auth.algorithm", null),
                            Path.of(source.requireProperty("auth.private-key-file")), clock)),
                    source.property("auth.scope", "system/*.read"), http, clock, Map.of());
            default -> throw new ConfigurationException("Source " + source.id() + ": auth.mode '" + mode
                    + "' is not one of none, bearer, client-credentials, smart-backend");
        };
    }

    private ClientAuthentication clientSecret(SourceConfig source) {
        String id = source.requireProperty("auth.client-id");
        String secret = secret(source, "auth.client-secret");
        return "form".equals(source.property("auth.secret-in", "basic"))
                ? new ClientAuthentication.FormSecret(id, secret)
                : new ClientAuthentication.BasicSecret(id, secret);
    }

    /** A secret from its property, or from the file named by {@code <name>-file} (a mounted Kubernetes Secret). */
    public static String secret(SourceConfig source, String name) {
        return source.property(name).orElseGet(() -> source.property(name + "-file").map(file -> {
            try {
                return Files.readString(Path.of(file)).trim();
            } catch (IOException e) {
                throw new ConfigurationException("Source " + source.id() + ": cannot read " + name + "-file " + file);
            }
        }).orElseThrow(() -> new ConfigurationException("Source " + source.id() + " needs relay.sources."
                + source.id() + "." + name + " or " + name + "-file")));
    }

    /** The configured token URL, else the one the server publishes in .well-known/smart-configuration. */
    private Supplier<URI> tokenUrl(SourceConfig source) {
        return source.property("auth.token-url").<Supplier<URI>>map(u -> () -> URI.create(u))
                .orElseGet(() -> new Supplier<>() {
                    private URI discovered;

                    @Override
                    public synchronized URI get() {
                        if (discovered == null) {
                            discovered = discover(source);
                        }
                        return discovered;
                    }
                });
    }

    private URI discover(SourceConfig source) {
        URI wellKnown = source.requireBaseUrl().resolve(".well-known/smart-configuration");
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(wellKnown).timeout(Duration.ofSeconds(30))
                    .header("Accept", "application/json").GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AuthException(wellKnown + " answered " + r.statusCode()
                        + "; set relay.sources." + source.id() + ".auth.token-url", r.statusCode() < 500, null);
            }
            JsonNode json = new ObjectMapper().readTree(r.body());
            String endpoint = json.path("token_endpoint").asText(null);
            if (endpoint == null) {
                throw new AuthException(wellKnown + " has no token_endpoint", true, null);
            }
            return URI.create(endpoint);
        } catch (IOException e) {
            throw new AuthException("Cannot discover the token endpoint at " + wellKnown, false, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuthException("Interrupted", false, e);
        }
    }
}
