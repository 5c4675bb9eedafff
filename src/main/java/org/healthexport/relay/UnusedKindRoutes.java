package org.healthexport.relay;

import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.source.SourceKind;
import org.healthexport.relay.source.SourceKinds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Leaves out the route files of the kinds no configured source uses: a kind's routes are in
 * {@code routes/<kind>.camel.yaml}, whose only entries are that kind's {@code direct:} endpoints. Building routes
 * is the largest part of a start (a relay for one vendor built the 22 routes of all five; docs/benchmarks.md,
 * stop 32). Camel's own {@code camel.main.routes-exclude-pattern}, when set, replaces this choice, and
 * {@code relay.routes.skip-unused-kinds=false} loads every file.
 */
final class UnusedKindRoutes extends MainListenerSupport {
    private static final Logger LOG = LoggerFactory.getLogger(UnusedKindRoutes.class);

    @Override
    public void beforeConfigure(BaseMainSupport main) {
        RelayProperties props = new RelayProperties(main.getCamelContext());
        if (!props.getBoolean("relay.routes.skip-unused-kinds", true)
                || props.get("camel.main.routes-exclude-pattern").isPresent()) {
            return;
        }
        Set<String> kinds = SourceKinds.all().stream().map(SourceKind::name).collect(Collectors.toCollection(TreeSet::new));
        Set<String> unused = unused(kinds, usedKinds(props));
        excludePattern(unused).ifPresent(pattern -> {
            main.configure().setRoutesExcludePattern(pattern);
            LOG.info("Routes of kinds no source uses, not loaded: {}", String.join(", ", unused));
        });
    }

    /** The kinds the configured sources name, or the demo's when it runs. */
    static Set<String> usedKinds(RelayProperties props) {
        Set<String> sourceIds = props.sourceIds();
        if (RelayConfiguration.runsDemo(props, sourceIds)) {
            return Set.of(RelayConfiguration.DEMO_KIND);
        }
        // the kind alone: a source configured wrongly is reported, with the reason, where the sources are wired
        return sourceIds.stream().map(id -> props.get("relay.sources." + id + ".kind"))
                .flatMap(Optional::stream).collect(Collectors.toSet());
    }

    static Set<String> unused(Collection<String> kinds, Set<String> used) {
        return kinds.stream().filter(kind -> !used.contains(kind)).collect(Collectors.toCollection(TreeSet::new));
    }

    /** Camel's exclude pattern for those kinds' files, wherever the routes are read from (classpath: or file:). */
    static Optional<String> excludePattern(Set<String> unusedKinds) {
        return unusedKinds.isEmpty() ? Optional.empty()
                : Optional.of(unusedKinds.stream().map(kind -> "**/" + kind + ".camel.yaml")
                        .collect(Collectors.joining(",")));
    }
}
