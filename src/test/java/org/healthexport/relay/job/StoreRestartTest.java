package org.healthexport.relay.job;

import com.zaxxer.hikari.HikariDataSource;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.healthexport.relay.sandbox.SandboxServer.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Fault 9 of issue 8: PostgreSQL restarted while 50 jobs poll and deliver. The relay reaches its store through
 * {@link DatabaseProxy}, which cuts every connection at once and refuses new ones for a few seconds, twice. Every
 * job still ends DELIVERED, every file is fetched from the source once and lands once, no job is worked on by two
 * workers at once, readiness goes DOWN during the outage and UP after, and the same connection pool serves on.
 * With RELAY_TEST_PG_RESTART_CMD set (e.g. {@code sudo systemctl restart postgresql}) a second test restarts the
 * real database with that command instead; never on a shared machine's database by default.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.target.file.dir=target/test-outbox/store-restart",
        "relay.sandbox.enabled=true",
        "relay.sandbox.polls-before-ready=3",
        "relay.sandbox.retry-after=1",
        "relay.sandbox.patients=3",
        "relay.poll.initial-wait=200ms",
        "relay.poll.min-wait=100ms",
        "relay.poll.max-wait=2s",
        "relay.health.store-timeout=1s",
        "relay.sources.bulk.kind=fhir-bulk",
        "relay.sources.bulk.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.bulk.allowed-hosts={{relay.sandbox.storage-origin}}",
})
class StoreRestartTest {
    static final int JOBS = 50;
    static final Path OUTBOX = Path.of("target/test-outbox/store-restart");
    static final DatabaseProxy PROXY;
    static final String DIRECT_URL;

    static {
        try {
            DIRECT_URL = TestDatabases.newPostgresSchema();
            PROXY = DatabaseProxy.toTestPostgres();
            // the relay's store goes through the proxy (system properties override application.properties)
            System.setProperty("relay.store.url", PROXY.through(DIRECT_URL));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void closeProxy() throws IOException {
        System.clearProperty("relay.store.url");
        PROXY.close();
    }

    @BeanInject
    CamelContext context;
    final HttpClient http = HttpClient.newHttpClient();
    final JobWorkWatch watch = new JobWorkWatch();
    FhirBulkSandbox sandbox;
    HikariDataSource direct;
    JobStore store; // the test's own view of the store, not through the proxy

    @BeforeEach
    void setUp() throws Exception {
        sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
        direct = TestDatabases.migrated(DIRECT_URL);
        store = new JobStore(direct, Clock.systemUTC());
        watch.start();
        context.getManagementStrategy().addEventNotifier(watch);
    }

    @AfterEach
    void tearDown() throws Exception {
        context.getManagementStrategy().removeEventNotifier(watch);
        PROXY.accept();
        direct.close();
    }

    @Test
    void jobsSurviveTwoDatabaseRestartsThroughTheProxy() throws Exception {
        runThroughRestarts(() -> {
            PROXY.cutAndRefuse();
            // readiness DOWN while the store is away, liveness unaffected
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200))
                    .until(() -> get("/observe/health/ready").statusCode() == 503);
            assertThat(get("/observe/health/live").statusCode()).isEqualTo(200);
            Thread.sleep(2000);
            PROXY.accept();
        });
    }

    @Test
    @EnabledIfEnvironmentVariable(named = "RELAY_TEST_PG_RESTART_CMD", matches = ".+")
    void jobsSurviveTwoRealDatabaseRestarts() throws Exception {
        runThroughRestarts(() -> {
            Process p = new ProcessBuilder("sh", "-c", System.getenv("RELAY_TEST_PG_RESTART_CMD"))
                    .inheritIO().start();
            assertThat(p.waitFor()).as("restart command exit code").isZero();
        });
    }

    interface Restart {
        void run() throws Exception;
    }

    void runThroughRestarts(Restart restart) throws Exception {
        List<String> ids = adoptJobs();
        HikariDataSource pool = context.getRegistry().lookupByNameAndType("jobStoreDataSource", HikariDataSource.class);
        int connectionsBefore = PROXY.connectionsAccepted();

        // first restart while the jobs are being polled
        await().atMost(Duration.ofSeconds(20)).until(() -> count(ids, JobState.RUNNING) >= JOBS / 5);
        restart.run();
        awaitReady();

        // second one while jobs are being delivered
        await().atMost(Duration.ofSeconds(30)).until(() -> count(ids, JobState.DELIVERED) >= JOBS / 5);
        restart.run();
        awaitReady();

        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> assertThat(states(ids)).containsOnlyKeys(JobState.DELIVERED));

        // the same pool served on, with new connections
        assertThat(context.getRegistry().lookupByNameAndType("jobStoreDataSource", HikariDataSource.class))
                .isSameAs(pool);
        assertThat(pool.isClosed()).isFalse();
        assertThat(PROXY.connectionsAccepted()).isGreaterThan(connectionsBefore);
        assertThat(watch.overlaps).as("jobs worked on by two workers at once").isEmpty();
        assertThat(watch.started.keySet()).containsAll(ids);

        // every file fetched from the source once, landed once, receipts present
        Set<String> ours = ids.stream().map(id -> vendorJob(store.get(id))).collect(Collectors.toSet());
        Map<String, Long> fetches = sandbox.requests().stream()
                .filter(r -> r.path().contains("/files/") && ours.contains(r.path().split("/")[3]))
                .collect(Collectors.groupingBy(RecordedRequest::path, Collectors.counting()));
        assertThat(fetches).hasSize(JOBS * 4).allSatisfy((path, n) -> assertThat(n).as(path).isEqualTo(1L));
        for (String id : ids) {
            Path folder = OUTBOX.resolve("bulk").resolve(id);
            try (Stream<Path> files = Files.list(folder)) {
                assertThat(files.map(p -> p.getFileName().toString()))
                        .containsExactlyInAnyOrder("Patient-1.ndjson", "Observation-1.ndjson", "Observation-2.ndjson",
                                "receipt.json", "error");
            }
            assertThat(store.receiptKey(id)).isPresent();
            assertThat(store.files(id)).hasSize(4).allMatch(JobFile::isDelivered);
        }
    }

    /** 50 exports kicked off at the sandbox and adopted, their first polls spread over two seconds. */
    List<String> adoptJobs() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < JOBS; i++) {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(sandbox.fhirBase() + "$export"))
                    .header("Prefer", "respond-async").GET().build(), HttpResponse.BodyHandlers.discarding());
            String status = r.headers().firstValue("Content-Location").orElseThrow();
            ids.add(store.adopt(new NewJob("bulk", "fhir-bulk", null, status, null, Map.of()), JobState.SUBMITTED,
                    store.now().plusMillis(40L * i), store.now().plus(Duration.ofHours(1))).job().id());
        }
        return ids;
    }

    void awaitReady() {
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .until(() -> get("/observe/health/ready").statusCode() == 200);
    }

    static String vendorJob(ExportJob job) {
        return job.statusUrl().substring(job.statusUrl().lastIndexOf('/') + 1);
    }

    long count(List<String> ids, JobState state) {
        return states(ids).getOrDefault(state, 0L);
    }

    Map<JobState, Long> states(List<String> ids) {
        return ids.stream().map(store::get).collect(Collectors.groupingBy(ExportJob::state, Collectors.counting()));
    }

    HttpResponse<String> get(String path) throws Exception {
        int port = context.hasServices(VertxPlatformHttpServer.class).stream()
                .mapToInt(VertxPlatformHttpServer::getPort).filter(p -> p > 0).findFirst().orElseThrow();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Watches the job routes: a job's status or delivery step entered by one exchange (one claim) while another
     * exchange is still inside one for the same job is two workers on one job.
     */
    static final class JobWorkWatch extends EventNotifierSupport {
        final Map<String, String> inside = new ConcurrentHashMap<>();
        final Map<String, Integer> depth = new ConcurrentHashMap<>();
        final Map<String, Boolean> started = new ConcurrentHashMap<>();
        final List<String> overlaps = new CopyOnWriteArrayList<>();

        @Override
        public boolean isEnabled(CamelEvent event) {
            return event instanceof CamelEvent.ExchangeSendingEvent || event instanceof CamelEvent.ExchangeSentEvent;
        }

        @Override
        public void notify(CamelEvent event) {
            CamelEvent.ExchangeEvent e = (CamelEvent.ExchangeEvent) event;
            String uri = event instanceof CamelEvent.ExchangeSendingEvent sending ? sending.getEndpoint().getEndpointUri()
                    : ((CamelEvent.ExchangeSentEvent) event).getEndpoint().getEndpointUri();
            if (!uri.startsWith("direct://status-") && !uri.startsWith("direct://deliver-job")) {
                return;
            }
            Object job = e.getExchange().getProperty("job");
            if (!(job instanceof ExportJob j)) {
                return;
            }
            String exchangeId = e.getExchange().getExchangeId();
            synchronized (this) {
                if (event instanceof CamelEvent.ExchangeSendingEvent) {
                    started.put(j.id(), true);
                    String other = inside.putIfAbsent(j.id(), exchangeId);
                    if (other != null && !other.equals(exchangeId)) {
                        overlaps.add(j.id() + " in " + other + " and " + exchangeId);
                    }
                    depth.merge(exchangeId + j.id(), 1, Integer::sum);
                } else if (depth.merge(exchangeId + j.id(), -1, Integer::sum) <= 0) {
                    depth.remove(exchangeId + j.id());
                    inside.remove(j.id(), exchangeId);
                }
            }
        }
    }
}
