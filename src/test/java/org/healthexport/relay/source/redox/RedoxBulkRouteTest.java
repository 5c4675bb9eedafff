package org.healthexport.relay.source.redox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.SignedJWT;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.RedoxSandbox;
import org.healthexport.relay.sandbox.SandboxServer.RecordedRequest;
import org.healthexport.relay.auth.TestKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The redox-bulk routes from the real YAML, end to end against the Redox sandbox, delivering to a folder. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:redox-route;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/redox-route",
        "relay.sandbox.enabled=true",
        "relay.sandbox.redox-bulk.retry-after=1",
        "relay.download.parallel=1",
        "relay.sources.rdx.kind=redox-bulk",
        "relay.sources.rdx.base-url={{relay.sandbox.redox-bulk.url}}",
        "relay.sources.rdx.destination-slug=redox-fhir-sandbox",
        "relay.sources.rdx.environment=Development",
        "relay.sources.rdx.group-id=g-123",
        "relay.sources.rdx.export-params=_type=Patient,Encounter",
        "relay.sources.rdx.auth.client-id=rdx-client",
        "relay.sources.rdx.auth.key-id=rdx-key-1",
        "relay.sources.rdx.auth.private-key-file=" + RedoxBulkRouteTest.KEY_FILE,
        "relay.sources.rdx.allowed-hosts=127.0.0.1",
        // a kid Redox has no key for
        "relay.sources.rdxbad.kind=redox-bulk",
        "relay.sources.rdxbad.base-url={{relay.sandbox.redox-bulk.url}}",
        "relay.sources.rdxbad.destination-slug=redox-fhir-sandbox",
        "relay.sources.rdxbad.environment=Staging",
        "relay.sources.rdxbad.group-id=g-123",
        "relay.sources.rdxbad.auth.client-id=rdx-client",
        "relay.sources.rdxbad.auth.key-id=not-registered",
        "relay.sources.rdxbad.auth.private-key-file=" + RedoxBulkRouteTest.KEY_FILE,
        // its own client: tokens of 3 s during a slow delivery
        "relay.sources.rdxslow.kind=redox-bulk",
        "relay.sources.rdxslow.base-url={{relay.sandbox.redox-bulk.url}}",
        "relay.sources.rdxslow.destination-slug=redox-fhir-sandbox",
        "relay.sources.rdxslow.environment=Production",
        "relay.sources.rdxslow.group-id=g-9",
        "relay.sources.rdxslow.export-params=_type=Patient,Encounter,Observation",
        "relay.sources.rdxslow.auth.client-id=rdx-slow",
        "relay.sources.rdxslow.auth.key-id=rdx-key-1",
        "relay.sources.rdxslow.auth.private-key-file=" + RedoxBulkRouteTest.KEY_FILE,
})
class RedoxBulkRouteTest {
    static final String OUT = "target/test-outbox/redox-route";
    static final String KEY_FILE = "target/redox-route-key.json";
    static final RSAKey KEY = TestKeys.rsaKeyFile(KEY_FILE, "rdx-key-1");


    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;

    RedoxSandbox sandbox() {
        RedoxSandbox sandbox = context.getRegistry().lookupByNameAndType("redox-bulk-sandbox", RedoxSandbox.class);
        sandbox.registerKey("rdx-client", KEY.toPublicJWK()).registerKey("rdx-slow", KEY.toPublicJWK());
        return sandbox;
    }

    JobStore store() {
        return context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
    }

    ExportJob awaitEnd(String jobId, JobState state) {
        await().atMost(Duration.ofSeconds(40)).until(() -> store().get(jobId).state().isTerminal());
        ExportJob job = store().get(jobId);
        assertThat(job.state()).as(job.lastError()).isEqualTo(state);
        return job;
    }

    @Test
    void envelopeStatusIsFollowedAndFilesDeliveredWithTheTokenOnlyOnTheRedoxOrigin() throws Exception {
        RedoxSandbox sandbox = sandbox().externalFile(true);
        sandbox.clearRequests();
        try {
            ExportJob job = producer.requestBody("direct:kickoff-source", "rdx", ExportJob.class);
            assertThat(job.statusUrl()).contains("/fhir/R4/redox-fhir-sandbox/Development/BulkStatus/");
            ExportJob done = awaitEnd(job.id(), JobState.DELIVERED);

            RecordedRequest kickoff = sandbox.requests().stream().filter(r -> r.path().endsWith("$export")).findFirst().orElseThrow();
            assertThat(kickoff.path()).isEqualTo("/fhir/R4/redox-fhir-sandbox/Development/Group/g-123/$export");
            assertThat(kickoff.query()).isEqualTo("_type=Patient,Encounter");
            assertThat(kickoff.authorization()).startsWith("Bearer redox-sandbox-");
            assertThat(done.attribute("logId")).isNotNull().isIn(sandbox.logIds());
            assertThat(done.requestId()).isEqualTo(done.attribute("logId"));

            Path folder = Path.of(OUT, "rdx", job.id());
            assertThat(Files.readAllBytes(folder.resolve("Patient-1.ndjson"))).isEqualTo(RedoxSandbox.content("Patient"));
            assertThat(Files.readAllBytes(folder.resolve("Encounter-1.ndjson"))).isEqualTo(RedoxSandbox.content("Encounter"));
            assertThat(Files.readAllBytes(folder.resolve("Observation-1.ndjson"))).isEqualTo(RedoxSandbox.content("Observation"));
            JsonNode receipt = new ObjectMapper().readTree(folder.resolve("receipt.json").toFile());
            assertThat(receipt.path("files")).hasSize(3);
            assertThat(receipt.path("requestId").asText()).isEqualTo(done.attribute("logId"));

            String exportId = done.statusUrl().replaceAll(".*/", "");
            List<RecordedRequest> files = sandbox.requests().stream().filter(r -> r.path().endsWith(".ndjson.gz")
                    && r.path().contains(exportId)).toList();
            assertThat(files).hasSize(2).allMatch(RecordedRequest::hasAuthorization);
            assertThat(sandbox.externalRequests()).hasSize(1).noneMatch(RecordedRequest::hasAuthorization);

            List<RecordedRequest> polls = sandbox.requests().stream().filter(r -> r.path().endsWith("/BulkStatus/" + exportId))
                    .toList();
            assertThat(polls).hasSize(3);
            for (int i = 1; i < polls.size(); i++) {
                assertThat(Duration.between(polls.get(i - 1).at(), polls.get(i).at())).isGreaterThanOrEqualTo(Duration.ofMillis(950));
            }
        } finally {
            sandbox.externalFile(false);
        }
    }

    @Test
    void plainManifestsAndEnvelopesAlwaysAnsweredWith200AreFollowedToo() {
        RedoxSandbox sandbox = sandbox();
        try {
            sandbox.plain(true);
            ExportJob plain = producer.requestBody("direct:kickoff-source", "rdx", ExportJob.class);
            awaitEnd(plain.id(), JobState.DELIVERED);
            sandbox.plain(false).alwaysHttp200(true);
            ExportJob http200 = producer.requestBody("direct:kickoff-source", "rdx", ExportJob.class);
            ExportJob done = awaitEnd(http200.id(), JobState.DELIVERED);
            assertThat(done.attribute("logId")).isIn(sandbox.logIds());
            assertThat(Path.of(OUT, "rdx", http200.id(), "Encounter-1.ndjson")).exists();
        } finally {
            sandbox.plain(false).alwaysHttp200(false);
        }
    }

    @Test
    void anUnknownKeyFailsTheKickoffJobWithRedoxsWordsAndIsNotRetried() throws Exception {
        RedoxSandbox sandbox = sandbox();
        ExportJob job = producer.requestBody("direct:kickoff-source", "rdxbad", ExportJob.class);
        ExportJob failed = awaitEnd(job.id(), JobState.FAILED);
        assertThat(failed.lastError())
                .contains("Public key not found, check client_id, kid and Redox dashboard settings")
                .doesNotContain("BEGIN").doesNotContain("client_assertion=");
        Thread.sleep(1500); // time for a retry, were there one
        // this source's token requests, told from the other sources' (and earlier tests') by their key id
        long tokenCalls = sandbox.requests().stream().filter(r -> r.path().equals(RedoxSandbox.TOKEN_PATH))
                .filter(r -> "not-registered".equals(assertionKeyId(r.body()))).count();
        assertThat(store().get(job.id()).state()).isEqualTo(JobState.FAILED);
        assertThat(sandbox.requests().stream().filter(r -> r.path().contains("/Staging/"))).isEmpty();
        assertThat(tokenCalls).as("the refused key is asked for a token once, not again").isEqualTo(1);
        try (var notes = Files.walk(Path.of(OUT, "_notifications"))) {
            assertThat(notes.filter(p -> p.getFileName().toString().startsWith(job.id() + "-FAILED"))).hasSize(1);
        }
    }

    @Test
    void shortLivedTokensAreRenewedAheadOfExpiryDuringASlowDelivery() {
        RedoxSandbox sandbox = sandbox().tokenLifetimeSeconds(3).fileDelayMillis(1200);
        try {
            ExportJob job = producer.requestBody("direct:kickoff-source", "rdxslow", ExportJob.class);
            awaitEnd(job.id(), JobState.DELIVERED);
            assertThat(sandbox.expiredTokenRefusals()).as("no request carried an expired token").isZero();
            assertThat(sandbox.tokensIssued("rdx-slow")).isGreaterThanOrEqualTo(2);
            assertThat(Path.of(OUT, "rdxslow", job.id(), "Observation-1.ndjson")).exists();
        } finally {
            sandbox.tokenLifetimeSeconds(300).fileDelayMillis(0);
        }
    }

    /** The kid of the client assertion a token request carries, or null when it carries none. */
    private static String assertionKeyId(String form) {
        for (String pair : form.split("&")) {
            if (pair.startsWith("client_assertion=")) {
                try {
                    return SignedJWT.parse(URLDecoder.decode(pair.substring(17),
                            StandardCharsets.UTF_8)).getHeader().getKeyID();
                } catch (ParseException e) {
                    return null;
                }
            }
        }
        return null;
    }
}
