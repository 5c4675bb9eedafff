package org.healthexport.relay.source.oracle;

import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.sandbox.OracleHealthSandbox;
import org.healthexport.relay.sandbox.SandboxServer;
import org.healthexport.relay.source.KickoffSchedule;
import org.healthexport.relay.source.KindContext;
import org.healthexport.relay.source.SourceKind;
import org.healthexport.relay.source.fhir.FhirBulkKickoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Oracle Health Millennium FHIR R4 Bulk Data ({@code oracle-health}); routes in
 * {@code routes/oracle-health.camel.yaml}. One export per client and tenant (kick-offs queue as jobs), files
 * through a 307 to presigned S3 links (allowed by default under {@code *.amazonaws.com}), the export deleted at
 * Oracle after delivery.
 */
public class OracleHealthKind implements SourceKind {
    public static final String NAME = "oracle-health";
    private static final Logger LOG = LoggerFactory.getLogger(OracleHealthKind.class);
    /** The wait Oracle asks for between status polls. */
    static final Duration ORACLE_RETRY_AFTER = Duration.ofSeconds(600);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<String> keys() {
        Set<String> keys = new HashSet<>(FhirBulkKickoff.KEYS);
        keys.addAll(Set.of("lenient", "kickoff-wait"));
        return keys;
    }

    @Override
    public Map<String, String> defaults(SourceConfig source) {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("single-export", "true");
        d.put("queue-when-busy", "true");
        d.put("delete-after-delivery", "true");
        d.put("allowed-hosts", "*.amazonaws.com");
        boolean key = source.property("auth.private-key-file").isPresent();
        boolean secret = source.property("auth.client-secret").isPresent()
                || source.property("auth.client-secret-file").isPresent();
        if (key) {
            d.put("auth.mode", "smart-backend");
        } else if (secret) {
            d.put("auth.mode", "client-credentials");
        }
        String scopes = OracleKickoff.scopesFor(source.property("export", ""));
        if (scopes != null) {
            d.put("auth.scope", scopes);
        }
        return d;
    }

    @Override
    public SandboxServer sandbox(RelayProperties p) {
        String prefix = "relay.sandbox." + NAME + ".";
        return new OracleHealthSandbox(p.get("relay.sandbox.host", "127.0.0.1"), p.getInt(prefix + "port", 0))
                .retryAfterSeconds(p.getInt(prefix + "retry-after", 600))
                .pollsBeforeReady(p.getInt(prefix + "polls-before-ready", 2))
                .tokenLifetimeSeconds(p.getInt(prefix + "token-lifetime", 570))
                .presignedSeconds(p.getInt(prefix + "presigned-seconds", 300))
                .registerClient(p.get(prefix + "client-id", "relay-system-account"),
                        p.get(prefix + "client-secret", "sandbox-secret"));
    }

    @Override
    public void bind(KindContext c) {
        OracleKickoff kickoff = new OracleKickoff(c.sources(), c.store(), c.jobs());
        for (SourceConfig source : c.sources().all()) {
            if (!source.kind().equals(NAME)) {
                continue;
            }
            kickoff.validate(source);
            String mode = source.property("auth.mode", "none");
            if (mode.equals("none")) {
                throw new ConfigurationException("Source " + source.id() + ": Oracle Health needs its system account: "
                        + "auth.client-id with auth.private-key-file (+ auth.key-id; the preferred signed JWT) or "
                        + "auth.client-secret (Basic)");
            }
            if (source.property("auth.scope").isEmpty() && !mode.equals("bearer")) {
                throw new ConfigurationException("Source " + source.id() + ": set auth.scope (e.g. system/Patient.read "
                        + "system/Observation.read), or _type in export to ask for system/<Type>.read");
            }
            Duration maxWait = source.duration("poll.max-wait", "poll.max-wait", Duration.ofHours(1));
            if (maxWait.compareTo(ORACLE_RETRY_AFTER) < 0) {
                LOG.warn("Source {}: poll.max-wait {} is below the 600 s Oracle asks for between polls; the relay "
                        + "would poll faster than Oracle's Retry-After", source.id(), maxWait);
            }
            LOG.info("Source {} (oracle-health): one export at a time per {}", source.id(), KickoffSchedule.lockKey(source));
        }
        c.bind("oracleKickoff", kickoff);
        c.bind("oracleStatus", new OracleStatus(c.sources(), c.jobs(),
                c.camel().getRegistry().lookupByNameAndType("kickoffSchedule", KickoffSchedule.class)));
        c.adopters().put(NAME, kickoff);
    }
}
