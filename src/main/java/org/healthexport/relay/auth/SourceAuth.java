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
    private static final ObjectMapper JSON = new ObjectMapper();
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

    /**
     * The token endpoint from {@code .well-known/smart-configuration}, else from the server's
     * {@code metadata} (the SMART oauth-uris extension of {@code rest.security}, where Oracle Health documents it).
     */
    private URI discover(SourceConfig source) {
        URI wellKnown = source.requireBaseUrl().resolve(".well-known/smart-configuration");
        URI metadata = source.requireBaseUrl().resolve("metadata");
        String hint = "; set relay.sources." + source.id() + ".auth.token-url";
        try {
            HttpResponse<String> r = get(wellKnown, "application/json");
            if (r.statusCode() == 200) {
                String endpoint = JSON.readTree(r.body()).path("token_endpoint").asText(null);
                if (endpoint != null && !endpoint.isBlank()) {
                    return URI.create(endpoint);
                }
            } else if (r.statusCode() >= 500) {
                throw new AuthException(wellKnown + " answered " + r.statusCode(), false, null);
            }
            HttpResponse<String> m = get(metadata, "application/fhir+json");
            if (m.statusCode() != 200) {
                throw new AuthException("No token endpoint: " + wellKnown + " answered " + r.statusCode() + ", "
                        + metadata + " answered " + m.statusCode() + hint, m.statusCode() < 500, null);
            }
            String endpoint = oauthUri(JSON.readTree(m.body()), "token");
            if (endpoint == null) {
                throw new AuthException("Neither " + wellKnown + " nor " + metadata + " names a token endpoint" + hint,
                        true, null);
            }
            return URI.create(endpoint);
        } catch (IOException e) {
            throw new AuthException("Cannot discover the token endpoint at " + wellKnown + ": "
                    + e.getClass().getSimpleName(), false, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuthException("Interrupted", false, e);
        }
    }

    private HttpResponse<String> get(URI url, String accept) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(30)).header("Accept", accept).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@code rest[].security.extension[oauth-uris].extension[<name>].valueUri} of a CapabilityStatement. */
    static String oauthUri(JsonNode capability, String name) {
        for (JsonNode rest : capability.path("rest")) {
            for (JsonNode ext : rest.path("security").path("extension")) {
                if (!ext.path("url").asText().endsWith("/StructureDefinition/oauth-uris")) {
                    continue;
                }
                for (JsonNode sub : ext.path("extension")) {
                    if (name.equals(sub.path("url").asText()) && sub.hasNonNull("valueUri")) {
                        return sub.path("valueUri").asText();
                    }
                }
            }
        }
        return null;
    }
}
