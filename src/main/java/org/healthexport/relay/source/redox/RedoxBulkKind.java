package org.healthexport.relay.source.redox;

import org.healthexport.relay.auth.ClientAssertion;
import org.healthexport.relay.auth.ClientAuthentication;
import org.healthexport.relay.auth.ClientCredentialsTokens;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.http.BoundedAnswer;
import org.healthexport.relay.sandbox.RedoxSandbox;
import org.healthexport.relay.sandbox.SandboxServer;
import org.healthexport.relay.source.KindContext;
import org.healthexport.relay.source.SourceKind;
import org.healthexport.relay.source.fhir.FhirBulkStatus;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Redox "FHIR Bulk Data Access" ({@code redox-bulk}); routes in {@code routes/redox-bulk.camel.yaml}. Tokens
 * from a signed JWT client assertion (RS384/ES384, kid required) posted to {@code {base-url}/v2/auth/token}
 * unless {@code auth.token-url} says otherwise; 5-minute tokens renewed ahead of expiry.
 */
public class RedoxBulkKind implements SourceKind {
    public static final String NAME = "redox-bulk";
    static final String REDOX = "https://api.redoxengine.com";
    static final Set<String> ALGORITHMS = Set.of("RS384", "ES384");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<String> keys() {
        // the kick-off (a GET, always) is built from these, not from export; since is read as for any Bulk Data source
        return Set.of("destination-slug", "environment", "group-id", "export-params", "since");
    }

    @Override
    public Map<String, String> defaults(SourceConfig source) {
        return Map.of("base-url", REDOX, "auth.mode", "redox-jwt");
    }

    @Override
    public SandboxServer sandbox(RelayProperties p) {
        String prefix = "relay.sandbox." + NAME + ".";
        return new RedoxSandbox(p.get("relay.sandbox.host", "127.0.0.1"), p.getInt(prefix + "port", 0))
                .retryAfterSeconds(p.getInt(prefix + "retry-after", 5))
                .pollsBeforeReady(p.getInt(prefix + "polls-before-ready", 2))
                .tokenLifetimeSeconds(p.getInt(prefix + "token-lifetime", 300));
    }

    /** The token URL: {@code auth.token-url}, else Redox's {@code /v2/auth/token} on the base URL's host. */
    static URI tokenUrl(SourceConfig source) {
        return source.property("auth.token-url").map(URI::create)
                .orElseGet(() -> source.requireBaseUrl().resolve("/v2/auth/token"));
    }

    @Override
    public void bind(KindContext c) {
        RedoxKickoff kickoff = new RedoxKickoff(c.sources(), c.store(), c.jobs());
        for (SourceConfig source : c.sources().all()) {
            if (!source.kind().equals(NAME)) {
                continue;
            }
            kickoff.validate(source);
            String mode = source.property("auth.mode", "redox-jwt");
            if (!mode.equals("redox-jwt")) {
                continue; // bearer or none through the generic SourceAuth (a proxy, a test double)
            }
            String algorithm = source.property("auth.algorithm", null);
            if (algorithm != null && !ALGORITHMS.contains(algorithm)) {
                throw new ConfigurationException("Source " + source.id() + ": auth.algorithm must be RS384 or ES384");
            }
            ClientAssertion assertion = ClientAssertion.fromKeyFile(source.requireProperty("auth.client-id"),
                    source.property("auth.key-id", null), algorithm,
                    Path.of(source.requireProperty("auth.private-key-file")), c.clock());
            URI tokenUrl = tokenUrl(source);
            c.auth().register(source.id(), new ClientCredentialsTokens(() -> tokenUrl,
                    new ClientAuthentication.PrivateKeyJwt(assertion), source.property("auth.scope", null), c.http(),
                    c.clock(), Map.of()));
        }
        c.bind("redoxKickoff", kickoff);
        FhirBulkStatus manifests = new FhirBulkStatus(c.sources(), c.jobs(), c.files(), c.auth(),
                BoundedAnswer.maxBytes(c.properties()),
                FhirBulkStatus.maxManifestPages(c.properties()));
        c.bind("redoxStatus", new RedoxStatus(c.jobs(), manifests));
        c.adopters().put(NAME, kickoff);
    }
}
