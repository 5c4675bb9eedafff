package org.healthexport.relay.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** The eHealth sandbox answers as the docs say (what the route test relies on). */
class EhealthSandboxTest {
    EhealthSandbox sandbox;
    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    final ObjectMapper json = new ObjectMapper();

    @BeforeEach
    void start() {
        sandbox = new EhealthSandbox("127.0.0.1", 0).acceptToken("t");
        sandbox.start();
    }

    @AfterEach
    void stop() {
        sandbox.stop();
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(sandbox.baseUrl() + path)).header("Authorization", "Bearer t")
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void pendingThenA303WithoutLocationWhoseBodyListsTheEntities() throws Exception {
        String id = sandbox.processedWithLinks(1, 5);
        HttpResponse<String> pending = get("/api/jobs/" + id);
        assertThat(pending.statusCode()).isEqualTo(200);
        JsonNode p = json.readTree(pending.body());
        assertThat(p.path("data").path("status").asText()).isEqualTo("pending");
        assertThat(p.path("data").path("eta").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(p.path("data").path("links").get(0).path("href").asText()).isEqualTo("/jobs/" + id);
        assertThat(p.path("meta").path("request_id").asText()).isEqualTo(sandbox.lastRequestId(id));

        HttpResponse<String> done = get("/api/jobs/" + id);
        assertThat(done.statusCode()).isEqualTo(303);
        assertThat(done.headers().firstValue("Location")).isEmpty();
        JsonNode d = json.readTree(done.body());
        assertThat(d.path("meta").path("code").asInt()).isEqualTo(303);
        assertThat(d.path("data").path("status").asText()).isEqualTo("processed");
        assertThat(d.path("data").path("links")).hasSize(5);
        for (EhealthSandbox.Link link : sandbox.links(id)) {
            String path = link.href().replace("{host}", "").replace(sandbox.baseUrl(), "");
            HttpResponse<byte[]> entity = http.send(HttpRequest.newBuilder(URI.create(sandbox.baseUrl() + path))
                    .header("Authorization", "Bearer t").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(entity.statusCode()).isEqualTo(200);
            assertThat(entity.body()).isEqualTo(sandbox.entity(path));
        }
        assertThat(sandbox.links(id)).extracting(EhealthSandbox.Link::href)
                .anyMatch(h -> h.startsWith("{host}/api/")).anyMatch(h -> h.startsWith("/api/"))
                .anyMatch(h -> h.startsWith(sandbox.baseUrl()));
        assertThat(sandbox.links(id)).extracting(EhealthSandbox.Link::entity).contains("medication_statemet");
    }

    @Test
    void failuresUnknownJobsAndMissingTokens() throws Exception {
        JsonNode failed = json.readTree(get("/api/jobs/" + sandbox.failed(0, 422)).body()).path("data");
        assertThat(failed.path("status").asText()).isEqualTo("failed");
        assertThat(failed.path("status_code").asText()).isEqualTo("422");
        assertThat(failed.path("error").path("invalid").get(0).path("entry").asText()).isEqualTo("$.encounter.period");

        HttpResponse<String> unknown = get("/api/jobs/" + sandbox.newJobId());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(json.readTree(unknown.body()).path("error").path("type").asText()).isEqualTo("not_found");

        HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(URI.create(sandbox.baseUrl() + "/api/jobs/x"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(sandbox.requests()).hasSize(3);
    }

    @Test
    void aSubmittedPackageAnswers202WithThePendingJob() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(sandbox.baseUrl()
                        + "/api/patients/3da18c10-d2ca-469e-bde5-7413201cea2f/encounter_package"))
                .header("Authorization", "Bearer t").POST(HttpRequest.BodyPublishers.ofString("{\"signed_data\":\"x\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(202);
        JsonNode body = json.readTree(r.body());
        assertThat(body.path("meta").path("code").asInt()).isEqualTo(202);
        String href = body.path("data").path("links").get(0).path("href").asText();
        assertThat(get("/api/jobs/" + href.substring("/jobs/".length())).statusCode()).isEqualTo(200);
    }
}
