package org.healthexport.relay.source;

import org.healthexport.relay.config.KnownKeys;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.deliver.KeyLayout;
import org.healthexport.relay.sandbox.SandboxServer;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * One vendor kind ({@code relay.sources.<id>.kind}). A kind brings its route file
 * ({@code routes/<kind>.camel.yaml} with {@code direct:status-<kind>}, {@code direct:after-delivery-<kind>} and,
 * when it starts exports, {@code direct:kickoff-<kind>}), the beans those routes call, and optionally an adopter
 * for {@code POST /api/jobs}. Adding a vendor means adding a kind to {@link SourceKinds}, nothing else shared. The
 * route file is loaded only while a source of the kind is configured, so no other file may name its endpoints.
 */
public interface SourceKind {

    /** The value of {@code relay.sources.<id>.kind}, and the suffix of the kind's route ids. */
    String name();

    /** Placeholders this kind offers to {@code relay.sources.<id>.path} besides source, jobId and date. */
    default Set<String> pathPlaceholders() {
        return Set.of();
    }

    /**
     * The keys of its own a source of this kind reads, besides {@link SourceConfig#SHARED_KEYS}: any other key given
     * for such a source is named at the start, as most likely misspelt.
     */
    default Set<String> keys() {
        return Set.of();
    }

    /** Every key source {@code sourceId} of this kind may be given: the shared ones and the kind's own. */
    default KnownKeys knownKeys(String sourceId) {
        Set<String> keys = new HashSet<>(SourceConfig.SHARED_KEYS);
        keys.addAll(keys());
        return KnownKeys.ofSource(sourceId, name(), keys);
    }

    /** The default {@code relay.sources.<id>.path} template of this kind. */
    default String defaultPath() {
        return KeyLayout.DEFAULT_TEMPLATE;
    }

    /**
     * The kind's sandbox (a faithful HTTP server of the vendor), or null. Started before sources are read when
     * {@code relay.sandbox.enabled=true}; bound as {@code <kind>-sandbox}; its base URL is offered to the
     * configuration as {@code {{relay.sandbox.<kind>.url}}}.
     */
    default SandboxServer sandbox(RelayProperties properties) {
        return null;
    }

    /**
     * Defaults of this kind for keys the source leaves unset (e.g. {@code single-export=true} for Oracle Health);
     * given the source as configured, so a default may follow from other keys.
     */
    default Map<String, String> defaults(SourceConfig source) {
        return Map.of();
    }

    /** Binds the kind's beans (under the names its routes use) and registers its adopter, if any. */
    void bind(KindContext context) throws Exception;
}
