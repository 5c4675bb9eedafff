package org.healthexport.relay;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.component.http.HttpComponent;
import org.apache.camel.builder.ThreadPoolProfileBuilder;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.spi.Registry;
import org.apache.camel.util.concurrent.ThreadPoolRejectedPolicy;
import org.apache.camel.support.service.ServiceSupport;
import org.healthexport.relay.api.JobsApi;
import org.healthexport.relay.auth.SourceAuth;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.KnownKeys;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.deliver.Delivery;
import org.healthexport.relay.deliver.DeliveryTarget;
import org.healthexport.relay.deliver.DeliveryTargets;
import org.healthexport.relay.deliver.KeyLayout;
import org.healthexport.relay.deliver.LineLengths;
import org.healthexport.relay.deliver.ReceiptWriter;
import org.healthexport.relay.http.BoundedAnswer;
import org.healthexport.relay.http.OutboundTls;
import org.healthexport.relay.deliver.SourceDownloads;
import org.healthexport.relay.http.SourceFiles;
import org.healthexport.relay.http.VendorRequestIds;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.RelayMetrics;
import org.healthexport.relay.job.StoreHealthCheck;
import org.healthexport.relay.job.StoreSchema;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.healthexport.relay.sandbox.SandboxServer;
import org.healthexport.relay.source.JobAdopter;
import org.healthexport.relay.source.KickoffSchedule;
import org.healthexport.relay.job.JobEvents;
import org.healthexport.relay.notify.Notifier;
import org.healthexport.relay.source.KindContext;
import org.healthexport.relay.source.SourceKind;
import org.healthexport.relay.source.SourceKinds;
import org.healthexport.relay.source.fhir.FhirBulkKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.concurrent.ScheduledExecutorService;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Wires the relay's beans from {@code relay.*} properties and binds them under the names the YAML routes use.
 * With no source configured it runs the demo: the sandbox Bulk Data server and a source pointing at it.
 */
public class RelayConfiguration implements CamelConfiguration {
    private static final Logger LOG = LoggerFactory.getLogger(RelayConfiguration.class);
    /** The kind of the demo's one source. */
    static final String DEMO_KIND = FhirBulkKind.NAME;
    /** The id of the demo's source. */
    static final String DEMO_SOURCE = "demo";

    @Override
    public void configure(CamelContext context) throws Exception {
        RelayProperties props = new RelayProperties(context);
        Registry registry = context.getRegistry();
        Clock clock = Clock.systemUTC();
        Set<String> givenKeys = props.givenKeys();
        warnOfUnknownKeys(KnownKeys.packaged(), givenKeys);
        Set<String> sourceIds = props.sourceIds(givenKeys);

        boolean demo = runsDemo(props, sourceIds);
        if (demo || props.getBoolean("relay.sandbox.enabled", false)) {
            FhirBulkSandbox sandbox = new FhirBulkSandbox(props.get("relay.sandbox.host", "127.0.0.1"),
                    props.getInt("relay.sandbox.port", 0))
                    .pollsBeforeReady(props.getInt("relay.sandbox.polls-before-ready", 2))
                    .retryAfterSeconds(props.getInt("relay.sandbox.retry-after", 1))
                    .patients(props.getInt("relay.sandbox.patients", 10))
                    .bigFileBytes(props.getLong("relay.sandbox.big-file-bytes", 0));
            props.get("relay.sandbox.tls-keystore").ifPresent(store -> sandbox.tls(SandboxServer.serverTls(
                    Path.of(store), props.get("relay.sandbox.tls-keystore-password", null), "PKCS12")));
            sandbox.start();
            context.addService(sandbox, true, true);
            registry.bind("fhirBulkSandbox", sandbox);
            // so a configuration (or a test) can point a source at the sandbox: {{relay.sandbox.fhir-base}}
            context.getPropertiesComponent().addInitialProperty("relay.sandbox.fhir-base", sandbox.fhirBase());
            context.getPropertiesComponent().addInitialProperty("relay.sandbox.storage-origin", sandbox.storageOrigin());
            LOG.info("FHIR Bulk Data sandbox listening at {}", sandbox.fhirBase());
            if (demo) {
                sourceIds = defineDemoSource(context, sandbox);
            }
        }

        Map<String, SourceKind> kinds = SourceKinds.byName();
        if (props.getBoolean("relay.sandbox.enabled", false)) {
            for (SourceKind kind : kinds.values()) {
                SandboxServer sandbox = kind.sandbox(props);
                if (sandbox != null) {
                    sandbox.start();
                    context.addService(sandbox, true, true);
                    registry.bind(kind.name() + "-sandbox", sandbox);
                    context.getPropertiesComponent().addInitialProperty("relay.sandbox." + kind.name() + ".url",
                            sandbox.baseUrl());
                    LOG.info("{} sandbox listening at {}", kind.name(), sandbox.baseUrl());
                }
            }
        }
        List<SourceConfig> configured = new ArrayList<>();
        List<KnownKeys> sourceKeys = new ArrayList<>();
        for (String id : sourceIds) {
            SourceConfig configuredSource = new SourceConfig(id, props);
            SourceKind kind = SourceKinds.get(configuredSource.kind());
            SourceConfig source = configuredSource.withDefaults(kind.defaults(configuredSource));
            source.checkFlags();
            KnownKeys keys = kind.knownKeys(id);
            sourceKeys.add(keys);
            warnOfUnknownKeys(keys, givenKeys);
            Set<String> placeholders = new HashSet<>(Set.of("source", "jobId", "date"));
            placeholders.addAll(kind.pathPlaceholders());
            KeyLayout.validate(id, source.property("path", kind.defaultPath()), placeholders);
            configured.add(source);
        }
        warnOfUnknownVariables(sourceKeys, props.givenSourceVariables());
        Sources sources = new Sources(configured);
        registry.bind("sources", sources);
        registry.bind("relayProperties", props);

        HikariDataSource dataSource = dataSource(props);
        registry.bind("jobStoreDataSource", dataSource); // its pool state, for tests and diagnostics
        // The pool opens and Flyway migrates on a thread of their own while the routes are built; the store's
        // statements, and the start of every route (the service below), wait for it.
        StoreSchema schema = StoreSchema.migrateInBackground(dataSource);
        JobStore store = new JobStore(dataSource, clock, schema);
        registry.bind("jobStore", store);
        // Readiness (/observe/health/ready) is DOWN while the store does not answer (issue 9: Kubernetes probes).
        HealthCheckRegistry.get(context).register(new StoreHealthCheck(store,
                props.getDuration("relay.health.store-timeout", Duration.ofSeconds(3))));

        // The JDK client (HealthEx $everything pages, tokens, the webhook) reads sockets in buffers of
        // jdk.httpclient.bufsize (16 KiB by default); larger ones cost less CPU per byte of a large body. The setting
        // is JVM-wide and read once, so it goes before any client. Files are read by Apache HttpClient (SourceFiles).
        System.getProperties().putIfAbsent("jdk.httpclient.bufsize",
                String.valueOf(props.getInt("relay.download.buffer-bytes", 256 * 1024, 1024)));
        // One TLS trust for every outbound client: camel-http (kick-offs, status polls), Apache HttpClient (files),
        // the JDK client ($everything pages, tokens, webhook) and the S3 target.
        OutboundTls tls = OutboundTls.from(context, props);
        tls.applyTo(context.getComponent("http", HttpComponent.class));
        if (tls.insecure()) {
            LOG.warn(tls.insecureWarning());
        }
        LOG.info("Outbound TLS: {}", tls.describe());
        HttpClient http = HttpClient.newBuilder()
                .sslContext(tls.sslContext())
                .connectTimeout(props.httpConnectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1)
                .build();
        DeliveryTarget target = DeliveryTargets.create(props, tls);
        registry.bind("deliveryTarget", target);

        // camel-micrometer-prometheus serves the registry bound as "metricsRegistry" on /observe/metrics: use it
        // when it is already there, else bind one it will find.
        MeterRegistry meters = registry.lookupByNameAndType("metricsRegistry", MeterRegistry.class);
        if (meters == null) {
            meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            registry.bind("metricsRegistry", meters);
        }
        RelayMetrics metrics = new RelayMetrics(meters, store);
        registry.bind("relayMetrics", metrics);
        ScheduledExecutorService notifyRetries = context.getExecutorServiceManager()
                .newSingleThreadScheduledExecutor(this, "notify-retries");
        Notifier notifier = new Notifier(target, http, props.get("relay.notify.webhook-url").map(URI::create).orElse(null),
                props.getInt("relay.notify.webhook-attempts", 8, 1), clock, notifyRetries);
        registry.bind("notifier", notifier);
        List<JobEvents> listeners = new ArrayList<>(List.of(metrics, notifier));
        if (demo) {
            listeners.add(demoReport(store, target, props.get("relay.http.port", "8080")));
        }
        JobEvents events = JobEvents.all(listeners);

        String owner = props.get("relay.instance-id", hostname() + "-" + UUID.randomUUID().toString().substring(0, 8));
        JobLifecycle jobs = new JobLifecycle(store, sources, owner,
                props.getDuration("relay.poll.lease", Duration.ofSeconds(60), Duration.ofSeconds(1)),
                props.getInt("relay.poll.batch-size", 200, 1), events);
        registry.bind("jobs", jobs);

        SourceAuth auth = new SourceAuth(sources, http, clock);
        registry.bind("sourceAuth", auth);
        SourceDownloads downloads = sourceDownloads(context, sources, props.getInt("relay.download.parallel", 8));
        // connections for every download at once, whichever hosts they share, and a few for manifest pages
        SourceFiles files = new SourceFiles(SourceFiles.client(tls.sslContext(), !tls.insecure(),
                props.httpConnectTimeout(), props.httpReadTimeout(), downloads.atMost() + 8),
                props.getLong("relay.download.max-inflate-ratio", 200, 1));
        VendorRequestIds requestIds = VendorRequestIds.parse(props.get("relay.http.request-id-headers", null));
        files.requestIds(requestIds);
        registry.bind("vendorRequestIds", requestIds);
        registry.bind("boundedAnswer", new BoundedAnswer(BoundedAnswer.maxBytes(props)));
        registry.bind("sourceFiles", files);
        registry.bind("kickoffSchedule", new KickoffSchedule(sources, store));
        registry.bind("delivery", new Delivery(sources, store, jobs, files, auth, target, new ReceiptWriter(), events,
                LineLengths.Limit.from(props),
                context.getExecutorServiceManager().newCachedThreadPool(this, "sha256")));
        registry.bind("sourceDownloads", downloads);

        Map<String, JobAdopter> adopters = new HashMap<>();
        KindContext kindContext = new KindContext(context, props, sources, store, jobs, auth, files, http, clock,
                target, notifier, adopters);
        for (SourceKind kind : kinds.values()) {
            kind.bind(kindContext);
        }
        registry.bind("jobAdopters", adopters);
        String apiToken = props.get("relay.api.token", null);
        requireTokenBeyondLoopback(props.get("relay.http.host", "127.0.0.1"), apiToken);
        registry.bind("jobsApi", new JobsApi(store, jobs, sources, adopters, apiToken));

        // Started with the context, before any route (not now: forceStart false): no route runs on an
        // unmigrated store, and a failed migration fails the start. On a clean stop, leases are handed back so
        // another replica takes the jobs at once.
        context.addService(new ServiceSupport() {
            @Override
            protected void doStart() {
                boolean postgres = schema.await();
                metrics.refresh();
                LOG.info("Relay {} ready: {} source(s) {}, store {}, target {}", owner, sources.all().size(),
                        sources.all().stream().map(SourceConfig::id).toList(), postgres ? "PostgreSQL" : "H2",
                        target.kind());
            }

            @Override
            protected void doStop() {
                if (schema.isDone()) {
                    int released = store.releaseAll(owner);
                    LOG.info("Released {} job lease(s) held by {}", released, owner);
                }
                dataSource.close();
                try {
                    files.close();
                } catch (IOException e) {
                    LOG.debug("Closing the file downloads' connections: {}", e.getMessage());
                }
            }
        }, true, false);
    }

    /**
     * Each source's download pool, made by Camel so it is named {@code downloads-<source>} and shut down with the
     * context; idle threads end after a minute, so a source that delivers rarely holds none. The queue is
     * unbounded (Camel's -1 would mean no queue at all) and a full pool never runs a file on the caller's thread.
     */
    private SourceDownloads sourceDownloads(CamelContext context, Sources sources, int defaultParallel) {
        return new SourceDownloads(sources, defaultParallel, (id, threads) -> context.getExecutorServiceManager()
                .newThreadPool(this, "downloads-" + id, new ThreadPoolProfileBuilder("downloads-" + id)
                        .poolSize(threads).maxPoolSize(threads).maxQueueSize(Integer.MAX_VALUE)
                        .rejectedPolicy(ThreadPoolRejectedPolicy.Abort)
                        .keepAliveTime(60L, TimeUnit.SECONDS).allowCoreThreadTimeOut(true).build()));
    }

    /** The demo's closing words: where the delivered files and the receipt are. */
    private static JobEvents demoReport(JobStore store, DeliveryTarget target, String port) {
        return new JobEvents() {
            @Override
            public void stateChanged(ExportJob job, JobState from, JobState to, String reason) {
                if (to == JobState.DELIVERED) {
                    store.receiptKey(job.id()).ifPresent(key -> {
                        String receipt = target.locate(key);
                        String folder = receipt.substring(0, receipt.length() - "receipt.json".length());
                        System.out.printf("%n=== Demo export delivered ===%n  files:   %s%n  receipt: %s%n"
                                + "  job:     http://localhost:%s/api/jobs/%s%n  (the relay keeps running; Ctrl-C to stop)%n%n",
                                folder, receipt, port, job.id());
                    });
                }
            }
        };
    }

    /** A misspelt key would be read as unset, silently: each one given is named (a route may read keys of its own). */
    private static void warnOfUnknownKeys(KnownKeys known, Set<String> givenKeys) {
        for (String key : known.unknown(givenKeys)) {
            LOG.warn("{} is not a key of {}: ignored unless a route of your own reads it ({})", key, known.owner(),
                    known.near(key));
        }
    }

    /** The same for a source's environment variables ({@code RELAY_SOURCES_ACME_BASEURL}). */
    private static void warnOfUnknownVariables(List<KnownKeys> sources, Set<String> variables) {
        KnownKeys.unknownVariables(sources, variables).forEach((name, source) -> LOG.warn("Environment variable {} is"
                + " not a key of {}: ignored unless a route of your own reads it ({} and a key upper-cased, '.' and '-'"
                + " as '_')", name, source.owner(), source.variablePrefix()));
    }

    /** With no source configured, the relay runs its demo (unless relay.demo.enabled=false). */
    static boolean runsDemo(RelayProperties props, Set<String> sourceIds) {
        return sourceIds.isEmpty() && props.getBoolean("relay.demo.enabled", true);
    }

    /** The demo's source, as properties pointing at the sandbox; its id. */
    private static Set<String> defineDemoSource(CamelContext context, FhirBulkSandbox sandbox) {
        var pc = context.getPropertiesComponent();
        String prefix = "relay.sources." + DEMO_SOURCE + ".";
        Map<String, String> demo = Map.of(
                "kind", DEMO_KIND,
                "base-url", sandbox.fhirBase(),
                "export", "Group/demo/$export?_type=Patient,Observation",
                "kickoff-on-start", "true",
                "allowed-hosts", sandbox.storageOrigin());
        demo.forEach((key, value) -> pc.addInitialProperty(prefix + key, value));
        LOG.info("No source configured: running the demo against the sandbox");
        return Set.of(DEMO_SOURCE);
    }

    /** The jobs API adopts and starts exports: reachable beyond this machine, it must ask for a token. */
    static void requireTokenBeyondLoopback(String host, String apiToken) {
        boolean loopback = host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]");
        if (!loopback && (apiToken == null || apiToken.isBlank())) {
            throw new ConfigurationException("relay.http.host is " + host
                    + ": the jobs API would be reachable beyond this machine; set relay.api.token (RELAY_API_TOKEN)");
        }
    }

    /** The pool, not yet open: the migration thread's first connection opens it. */
    private static HikariDataSource dataSource(RelayProperties props) {
        HikariDataSource pool = new HikariDataSource();
        pool.setJdbcUrl(JobStore.poolUrl(props.get("relay.store.url", "jdbc:h2:file:./data/relay-store")));
        props.get("relay.store.username").ifPresent(pool::setUsername);
        props.get("relay.store.password").ifPresent(pool::setPassword);
        pool.setMaximumPoolSize(props.getInt("relay.store.pool-size", 10, 1));
        pool.setPoolName("relay-store");
        // Fail fast at startup if the store is unreachable, but let the pool reconnect after a database restart.
        pool.setInitializationFailTimeout(props.getDuration("relay.store.connect-timeout", Duration.ofSeconds(30)).toMillis());
        pool.setConnectionTimeout(props.getDuration("relay.store.connect-timeout", Duration.ofSeconds(30)).toMillis());
        return pool;
    }

    private static String hostname() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "relay";
        }
    }
}
