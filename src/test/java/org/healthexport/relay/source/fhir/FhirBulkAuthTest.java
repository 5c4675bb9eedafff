package org.healthexport.relay.source.fhir;

import com.nimbusds.jose.jwk.RSAKey;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.healthexport.relay.sandbox.SandboxServer.RecordedRequest;
import org.healthexport.relay.auth.TestKeys;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SMART Backend Services against the sandbox: a private_key_jwt token, sent only where needed, renewed after
 * expiry and after a 401 in the middle of a poll series.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:fhir-bulk-auth;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/fhir-bulk-auth",
        "relay.sandbox.enabled=true",
        "relay.sandbox.retry-after=1",
        "relay.sandbox.polls-before-ready=4",
        "relay.sources.smart.kind=fhir-bulk",
        "relay.sources.smart.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.smart.allowed-hosts={{relay.sandbox.storage-origin}}",
        "relay.sources.smart.auth.mode=smart-backend",
        "relay.sources.smart.auth.client-id=relay-client",
        "relay.sources.smart.auth.private-key-file=target/test-keys/smart-key.json",
        "relay.sources.smart.auth.scope=system/*.rs",
        "relay.sources.basic.kind=fhir-bulk",
        "relay.sources.basic.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.basic.allowed-hosts={{relay.sandbox.storage-origin}}",
        "relay.sources.basic.auth.mode=client-credentials",
        "relay.sources.basic.auth.client-id=basic-client",
        "relay.sources.basic.auth.client-secret=s3cr3t-value-for-tests",
})
class FhirBulkAuthTest {
    static final RSAKey KEY = TestKeys.rsaKeyFile("target/test-keys/smart-key.json", "relay-key-1");

    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;

    FhirBulkSandbox sandbox() {
        return context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
    }

    JobStore store() {
        return context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
    }

    @Test
    void smartBackendTokenIsUsedOnlyWhereNeededAndRenewedAfter401() {
        FhirBulkSandbox sandbox = sandbox();
        sandbox.registerClient("relay-client", KEY.toPublicJWK());
        ExportJob job = producer.requestBody("direct:kickoff-source", "smart", ExportJob.class);
        assertThat(job).isNotNull();
        // the token of the poll series is revoked midway: the relay fetches a new one and goes on
        await().atMost(Duration.ofSeconds(20)).until(() -> sandbox.requests().stream()
                .filter(r -> r.path().contains("/jobs/")).count() >= 2);
        sandbox.revokeTokens();
        await().atMost(Duration.ofSeconds(40)).until(() -> store().get(job.id()).state() == JobState.DELIVERED);

        assertThat(sandbox.tokensIssued()).isGreaterThanOrEqualTo(2);
        List<RecordedRequest> requests = sandbox.requests();
        RecordedRequest tokenRequest = requests.stream().filter(r -> r.path().endsWith("/token")).findFirst().orElseThrow();
        assertThat(tokenRequest.body()).contains("grant_type=client_credentials")
                .contains("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer")
                .contains("scope=system%2F*.rs");
        assertThat(tokenRequest.authorization()).isNull();
        assertThat(requests.stream().filter(r -> r.path().contains("/jobs/") || r.path().contains("/files/"))
                .filter(r -> !r.path().endsWith("Observation-2.ndjson")))
                .allMatch(r -> r.authorization() != null && r.authorization().startsWith("Bearer sandbox-token-"));
        assertThat(sandbox.storageRequests()).isNotEmpty().noneMatch(RecordedRequest::hasAuthorization);
        assertThat(requests).filteredOn(r -> r.path().contains("/jobs/") && r.method().equals("GET")).hasSizeGreaterThanOrEqualTo(6);
    }

    @Test
    void clientSecretInABasicHeader() {
        FhirBulkSandbox sandbox = sandbox();
        sandbox.registerClient("basic-client", "s3cr3t-value-for-tests");
        ExportJob job = producer.requestBody("direct:kickoff-source", "basic", ExportJob.class);
        await().atMost(Duration.ofSeconds(40)).until(() -> store().get(job.id()).state() == JobState.DELIVERED);
        RecordedRequest tokenRequest = sandbox.requests().stream().filter(r -> r.path().endsWith("/token"))
                .findFirst().orElseThrow();
        assertThat(tokenRequest.authorization()).startsWith("Basic ");
        assertThat(tokenRequest.body()).doesNotContain("s3cr3t");
    }

    @Test
    void refusedCredentialsFailTheJobWithTheServersReasonAndNoSecret() {
        FhirBulkSandbox sandbox = sandbox();
        sandbox.registerClient("basic-client", "another-secret");
        // the kick-off's token request is refused: its job fails at once with the token endpoint's reason
        ExportJob kickoff = producer.requestBody("direct:kickoff-source", "basic", ExportJob.class);
        ExportJob job = store().get(kickoff.id());
        assertThat(job.state()).as(job.lastError()).isEqualTo(JobState.FAILED);
        assertThat(job.lastError()).contains("invalid_client").doesNotContain("s3cr3t");
    }
}
