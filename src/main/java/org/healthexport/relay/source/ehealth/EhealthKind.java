package org.healthexport.relay.source.ehealth;

import org.apache.camel.CamelContext;
import org.apache.camel.ExtendedStartupListener;
import org.apache.camel.builder.TemplatedRouteBuilder;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.sandbox.EhealthSandbox;
import org.healthexport.relay.sandbox.SandboxServer;
import org.healthexport.relay.source.KindContext;
import org.healthexport.relay.source.SourceKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The Ukrainian eHealth (ESOZ) async jobs kind ({@code ehealth-jobs}): jobs the MIS created by submitting
 * medical-event packages are adopted (API or inbox folder), polled at {@code GET /api/jobs/{id}} without
 * following the 303, and their created entities (or {@code response_data}) delivered. Routes in
 * {@code routes/ehealth-jobs.camel.yaml}.
 */
public class EhealthKind implements SourceKind {
    public static final String NAME = "ehealth-jobs";
    /** The eHealth job id in {@code relay.sources.<id>.path} ({@code {jobId}} is the relay's own job id). */
    public static final String JOB_ID_PLACEHOLDER = "ehealthJobId";
    public static final String DEFAULT_PATH = "ehealth/{" + JOB_ID_PLACEHOLDER + "}";
    static final String INBOX_TEMPLATE = "ehealth-jobs-inbox";
    private static final Logger LOG = LoggerFactory.getLogger(EhealthKind.class);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<String> pathPlaceholders() {
        return Set.of(JOB_ID_PLACEHOLDER);
    }

    @Override
    public Set<String> keys() {
        return Set.of("jobs-path", "inbox-dir", "inbox-interval", "auth.refresh-token", "auth.refresh-token-file",
                "auth.api-key", "auth.api-key-file", "api-key", "api-key-file");
    }

    @Override
    public String defaultPath() {
        return DEFAULT_PATH;
    }

    @Override
    public SandboxServer sandbox(RelayProperties p) {
        return EhealthSandbox.fromProperties(p);
    }

    @Override
    public void bind(KindContext c) {
        EhealthAuth auth = new EhealthAuth(c.auth());
        List<SourceConfig> sources = c.sources().all().stream().filter(s -> NAME.equals(s.kind())).toList();
        for (SourceConfig source : sources) {
            String apiKey = EhealthTokens.optionalSecret(source, "auth.api-key");
            if (apiKey == null) {
                apiKey = EhealthTokens.optionalSecret(source, "api-key");
            }
            auth.apiKey(source.id(), apiKey);
            c.auth().register(source.id(), EhealthTokens.from(source, apiKey, c.http(), c.clock()));
            c.files().addTokenHeaders(source.id(), () -> auth.headers(source.id()));
        }
        c.bind("ehealthAuth", auth);
        c.bind("ehealthStatus", new EhealthStatus(c.sources(), c.jobs(), c.target()));
        c.bind("ehealthInbox", new EhealthInbox(c.sources(), c.jobs()));
        c.adopters().put(NAME, new EhealthAdopter());

        List<SourceConfig> inboxes = sources.stream()
                .filter(s -> s.property("inbox-dir").filter(d -> !d.isBlank()).isPresent()).toList();
        if (!inboxes.isEmpty()) {
            try {
                c.camel().addStartupListener(new InboxRoutes(inboxes));
            } catch (Exception e) {
                throw new IllegalStateException("Cannot register the eHealth inbox routes", e);
            }
        }
    }

    /**
     * One inbox route per source with {@code inbox-dir}, from the YAML route template, added once the routes
     * are loaded (the template lives in {@code routes/ehealth-jobs.camel.yaml}).
     */
    private record InboxRoutes(List<SourceConfig> sources) implements ExtendedStartupListener {
        @Override
        public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
        }

        @Override
        public void onCamelContextFullyStarted(CamelContext context, boolean alreadyStarted) throws Exception {
            for (SourceConfig s : sources) {
                String routeId = "inbox-ehealth-jobs-" + s.id();
                TemplatedRouteBuilder.builder(context, INBOX_TEMPLATE)
                        .routeId(routeId)
                        .parameter("sourceId", s.id())
                        .parameter("inboxDir", s.property("inbox-dir").orElseThrow())
                        .parameter("interval", String.valueOf(s.duration("inbox-interval", "ehealth.inbox-interval",
                                Duration.ofSeconds(5)).toMillis()))
                        .add();
                LOG.info("Inbox of source {}: job-id files in {} (route {})", s.id(), s.property("inbox-dir").get(),
                        routeId);
            }
        }
    }
}
