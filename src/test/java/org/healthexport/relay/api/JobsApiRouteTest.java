package org.healthexport.relay.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The jobs API over real HTTP: token check, JSON errors, idempotent adoption, kick-off on demand. */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.api.token=api-token-for-tests",
        "relay.store.url=jdbc:h2:mem:jobs-api;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/jobs-api",
        "relay.sandbox.enabled=true",
        "relay.sandbox.polls-before-ready=1000",
        "relay.sources.bulk.kind=fhir-bulk",
        "relay.sources.bulk.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.late.kind=fhir-bulk",
        "relay.sources.late.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.late.deadline=2s",
})
class JobsApiRouteTest {
    static final String TOKEN = "Bearer api-token-for-tests";
    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();
    @BeanInject
    CamelContext context;

    String base() {
        return "http://127.0.0.1:" + context.hasServices(VertxPlatformHttpServer.class).stream()
                .mapToInt(VertxPlatformHttpServer::getPort).filter(p -> p > 0).findFirst().orElseThrow();
    }

    HttpResponse<String> call(String method, String path, String body, String auth) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (auth != null) {
            b.header("Authorization", auth);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void everyCallNeedsTheToken() throws Exception {
        for (String path : new String[] {"/api/jobs", "/api/jobs/x"}) {
            HttpResponse<String> r = call("GET", path, null, null);
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(json.readTree(r.body()).path("error").asText()).contains("bearer token");
            assertThat(call("GET", path, null, "Bearer wrong").statusCode()).isEqualTo(401);
        }
        assertThat(call("POST", "/api/jobs", "{}", "Bearer api-token-for-tests-but-longer").statusCode()).isEqualTo(401);
        assertThat(call("POST", "/api/sources/bulk/run", null, null).statusCode()).isEqualTo(401);
    }

    @Test
    void adoptingTwiceGivesOneJobAndTheTokenIsNeverEchoed() throws Exception {
        // an export the relay did not start: kicked off at the sandbox directly, then handed to the relay
        String statusUrl = http.send(HttpRequest.newBuilder(URI.create(
                        context.resolvePropertyPlaceholders("{{relay.sandbox.fhir-base}}") + "Patient/$export"))
                .header("Prefer", "respond-async").build(), HttpResponse.BodyHandlers.discarding())
                .headers().firstValue("Content-Location").orElseThrow();
        String body = "{\"source\":\"bulk\",\"statusUrl\":\"" + statusUrl + "\"}";
        List<HttpResponse<String>> answers = new ArrayList<>();
        HttpResponse<String> first = answered(answers, call("POST", "/api/jobs", body, TOKEN));
        assertThat(first.statusCode()).isEqualTo(201);
        HttpResponse<String> second = answered(answers, call("POST", "/api/jobs", body, TOKEN));
        assertThat(second.statusCode()).isEqualTo(200);
        String id = json.readTree(first.body()).path("id").asText();
        assertThat(json.readTree(second.body()).path("id").asText()).isEqualTo(id);

        HttpResponse<String> one = answered(answers, call("GET", "/api/jobs/" + id, null, TOKEN));
        assertThat(one.statusCode()).isEqualTo(200);
        JsonNode job = json.readTree(one.body());
        assertThat(job.path("source").asText()).isEqualTo("bulk");
        assertThat(job.path("state").asText()).isIn("SUBMITTED", "RUNNING");
        assertThat(job.has("files")).isTrue();

        // the sandbox answers 202 a thousand times: the first poll moves the job to RUNNING, where it stays.
        // Waiting for that first keeps the filters' answers from racing the poller.
        await().atMost(Duration.ofSeconds(20)).until(() ->
                ids(call("GET", "/api/jobs?state=running", null, TOKEN)).contains(id));
        assertThat(ids(answered(answers, call("GET", "/api/jobs?state=running", null, TOKEN)))).contains(id);
        assertThat(ids(answered(answers, call("GET", "/api/jobs?state=submitted", null, TOKEN)))).doesNotContain(id);
        assertThat(ids(answered(answers, call("GET", "/api/jobs?state=delivered", null, TOKEN)))).doesNotContain(id);

        assertThat(answers).hasSize(6).allSatisfy(r -> {
            assertThat(r.headers().map().toString()).doesNotContain("api-token-for-tests");
            assertThat(r.body()).doesNotContain("api-token-for-tests");
        });
    }

    private static HttpResponse<String> answered(List<HttpResponse<String>> answers, HttpResponse<String> answer) {
        answers.add(answer);
        return answer;
    }

    private List<String> ids(HttpResponse<String> list) throws IOException {
        assertThat(list.statusCode()).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        json.readTree(list.body()).forEach(j -> ids.add(j.path("id").asText()));
        return ids;
    }

    @Test
    void badRequestsGetJsonErrors() throws Exception {
        assertThat(call("POST", "/api/jobs", "not json", TOKEN).statusCode()).isEqualTo(400);
        assertThat(call("POST", "/api/jobs", "{\"statusUrl\":\"x\"}", TOKEN).statusCode()).isEqualTo(400);
        assertThat(call("POST", "/api/jobs", "{\"source\":\"nope\"}", TOKEN).statusCode()).isEqualTo(404);
        HttpResponse<String> foreign = call("POST", "/api/jobs",
                "{\"source\":\"bulk\",\"statusUrl\":\"https://evil.example.com/jobs/1\"}", TOKEN);
        assertThat(foreign.statusCode()).isEqualTo(400);
        assertThat(json.readTree(foreign.body()).path("error").asText()).contains("refused");
        assertThat(call("GET", "/api/jobs/unknown", null, TOKEN).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/api/jobs?state=BOGUS", null, TOKEN).statusCode()).isEqualTo(400);
        assertThat(call("POST", "/api/sources/nope/run", null, TOKEN).statusCode()).isEqualTo(404);
        assertThat(call("POST", "/api/jobs", "{\"source\":\"bulk\",\"pad\":\"" + "x".repeat(70_000) + "\"}", TOKEN)
                .statusCode()).isEqualTo(413);
    }

    @Test
    void anExportStillRunningAtItsDeadlineFailsAndShowsWhy() throws Exception {
        HttpResponse<String> r = call("POST", "/api/sources/late/run", null, TOKEN);
        String id = json.readTree(r.body()).path("id").asText();
        await().atMost(Duration.ofSeconds(20)).until(() ->
                json.readTree(call("GET", "/api/jobs/" + id, null, TOKEN).body()).path("state").asText().equals("FAILED"));
        JsonNode job = json.readTree(call("GET", "/api/jobs/" + id, null, TOKEN).body());
        assertThat(job.path("lastError").asText()).contains("Deadline passed");
        assertThat(job.path("progress").asText()).contains("% complete");
    }

    @Test
    void runKicksOffAnExportNow() throws Exception {
        HttpResponse<String> r = call("POST", "/api/sources/bulk/run", null, TOKEN);
        assertThat(r.statusCode()).isEqualTo(202);
        JsonNode job = json.readTree(r.body());
        assertThat(job.path("state").asText()).isEqualTo("SUBMITTED");
        assertThat(job.path("statusUrl").asText()).contains("/fhir/jobs/");
    }
}
