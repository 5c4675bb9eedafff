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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The sandbox answers as the HealthEx docs say. */
class HealthexSandboxTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private HealthexSandbox sandbox;

    @BeforeEach
    void start() throws Exception {
        sandbox = HealthexSandbox.demo("127.0.0.1");
        sandbox.start();
    }

    @AfterEach
    void stop() {
        sandbox.stop();
    }

    HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(sandbox.baseUrl() + path))
                .header("Content-Type", "application/json").header("Accept", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    String login(String body) throws Exception {
        HttpResponse<String> r = call("POST", "/v1/auth/token", null, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body()).path("token").asText();
    }

    String researcher() throws Exception {
        return login("{\"apiKey\":\"sandbox-api-key\",\"apiSecret\":\"sandbox-api-secret\"}");
    }

    String update(String patient) {
        return "/v1/projects/prj-sandbox/recruitment/identified-patients/" + patient + "/$updateData";
    }

    @Test
    void tokensAreJwtsValidForADayWithTheirRole() throws Exception {
        HttpResponse<String> r = call("POST", "/v1/auth/token", null,
                "{\"apiKey\":\"sandbox-api-key\",\"apiSecret\":\"sandbox-api-secret\"}");
        JsonNode answer = JSON.readTree(r.body());
        String[] parts = answer.path("token").asText().split("\\.");
        assertThat(parts).hasSize(3);
        JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
        assertThat(claims.path("role").asText()).isEqualTo("EXTERNAL_RESEARCHER");
        assertThat(answer.path("expiration").asLong()).isEqualTo(claims.path("exp").asLong());
        assertThat(claims.path("exp").asLong() - claims.path("iat").asLong()).isEqualTo(Duration.ofHours(24).toSeconds());

        String patient = login("{\"email\":\"pat-demo@sandbox.healthex.test\",\"password\":\"sandbox-patient-password\"}");
        assertThat(sandbox.roleOf("Bearer " + patient)).isEqualTo("PATIENT");
        assertThat(call("POST", "/v1/auth/token", null, "{\"email\":\"pat-demo@sandbox.healthex.test\","
                + "\"password\":\"nope\"}").statusCode()).isEqualTo(401);
        assertThat(call("POST", "/v1/auth/token", null, "{}").statusCode()).isEqualTo(400);
        sandbox.tokenLifetime(Duration.ofSeconds(5));
        JsonNode shortLived = JSON.readTree(call("POST", "/v1/auth/token", null,
                "{\"apiKey\":\"sandbox-api-key\",\"apiSecret\":\"sandbox-api-secret\"}").body());
        assertThat(shortLived.path("expiration").asLong() * 1000 - System.currentTimeMillis()).isLessThan(6000);
    }

    @Test
    void updateDataOutcomesAndRefusals() throws Exception {
        String token = researcher();
        HttpResponse<String> ok = call("POST", update("pat-demo"), token, "{}");
        assertThat(ok.statusCode()).isEqualTo(201);
        JsonNode body = JSON.readTree(ok.body());
        assertThat(body.path("message").asText()).isEqualTo("IN_PROGRESS_NO_ACTION_NEEDED");
        assertThat(body.path("retrievalId").asText()).isEqualTo(sandbox.patient("pat-demo").retrievalIds().get(0));
        assertThat(body.path("counts").size()).isEqualTo(5);

        sandbox.patient("pat-demo").updateCode(200).actionNeeded("AUTHENTICATION_EXPIRED");
        HttpResponse<String> action = call("POST", update("pat-demo"), token, "{\"skipInteractive\":false}");
        assertThat(action.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(action.body()).path("patientActionNeededReason").asText()).isEqualTo("AUTHENTICATION_EXPIRED");
        HttpResponse<String> skipped = call("POST", update("pat-demo"), token, "{\"skipInteractive\":true}");
        assertThat(JSON.readTree(skipped.body()).path("message").asText()).isEqualTo("IN_PROGRESS_NO_ACTION_NEEDED");
        assertThat(JSON.readTree(skipped.body()).path("skippedFacilitiesCount").asInt()).isEqualTo(1);

        assertThat(call("POST", update("pat-nobody"), token, "{}").statusCode()).isEqualTo(404);
        assertThat(call("POST", update("pat-demo").replace("prj-sandbox", "prj-x"), token, "{}").statusCode()).isEqualTo(404);
        sandbox.project("prj-p", HealthexSandbox.ProjectState.PAUSED);
        assertThat(call("POST", update("pat-demo").replace("prj-sandbox", "prj-p"), token, "{}").body()).contains("paused");
        assertThat(call("POST", update("pat-demo"), null, "{}").statusCode()).isEqualTo(401);
        String patient = login("{\"email\":\"pat-demo@sandbox.healthex.test\",\"password\":\"sandbox-patient-password\"}");
        assertThat(call("POST", update("pat-demo"), patient, "{}").statusCode()).isEqualTo(403);
        sandbox.expireTokens();
        assertThat(call("POST", update("pat-demo"), token, "{}").statusCode()).isEqualTo(401);
    }

    @Test
    void statusMovesThroughItsValuesPerLocation() throws Exception {
        String patient = login("{\"email\":\"pat-demo@sandbox.healthex.test\",\"password\":\"sandbox-patient-password\"}");
        assertThat(call("GET", "/v1/patients/data-retrieval/status", patient, null).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/v1/patients/data-retrieval/status", researcher(), null).statusCode()).isEqualTo(403);
        assertThat(call("GET", "/v1/patients/data-retrieval/status", null, null).statusCode()).isEqualTo(401);
        call("POST", update("pat-demo"), researcher(), "{}");
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            JsonNode s = JSON.readTree(call("GET", "/v1/patients/data-retrieval/status", patient, null).body());
            seen.add(s.path("dataRetrievalStatus").asText() + ":" + s.path("locations").get(0).path("dataRetrievalStatus")
                    .asText() + "," + s.path("locations").get(1).path("dataRetrievalStatus").asText() + ":"
                    + s.path("vectorizationStatus").asText());
        }
        assertThat(seen).containsExactly(
                "IN_PROGRESS:NOT_STARTED,NOT_STARTED:IN_PROGRESS",
                "IN_PROGRESS:IN_PROGRESS,IN_PROGRESS:IN_PROGRESS",
                "IN_PROGRESS:COMPLETE,IN_PROGRESS:IN_PROGRESS",
                "COMPLETE:COMPLETE,COMPLETE:COMPLETE",
                "COMPLETE:COMPLETE,COMPLETE:COMPLETE");
    }

    @Test
    void everythingIsPagedWithCountOffsetAndNextLinks() throws Exception {
        String token = researcher();
        int total = sandbox.patient("pat-demo").resourceCount();
        String url = "/FHIR/R4/Person/pat-demo/$everything?_count=10&_offset=0";
        StringBuilder lines = new StringBuilder();
        int pages = 0;
        while (url != null) {
            HttpResponse<String> r = call("GET", url, token, null);
            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode page = JSON.readTree(r.body());
            assertThat(page.path("type").asText()).isEqualTo("searchset");
            assertThat(page.path("total").asInt()).isEqualTo(total);
            if (pages == 0) {
                assertThat(page.path("entry").get(0).path("resource").path("resourceType").asText()).isEqualTo("Person");
            }
            page.path("entry").forEach(e -> lines.append(e.path("resource").toString()).append('\n'));
            url = null;
            for (JsonNode l : page.path("link")) {
                if (l.path("relation").asText().equals("next")) {
                    url = l.path("url").asText().substring(sandbox.baseUrl().length());
                }
            }
            pages++;
        }
        assertThat(pages).isEqualTo((total + 9) / 10);
        assertThat(lines.toString().split("\n")).hasSize(total);
        assertThat(call("GET", "/FHIR/R4/Person/pat-x/$everything", token, null).statusCode()).isEqualTo(404);
        sandbox.patient("pat-demo").consented(false);
        assertThat(call("GET", "/FHIR/R4/Person/pat-demo/$everything", token, null).statusCode()).isEqualTo(404);
        assertThat(sandbox.requests()).allMatch(r -> r.at() != null);
        assertThat(sandbox.requests().get(0).body()).contains("apiKey");
        assertThat(new String(sandbox.patient("pat-demo").ndjson().get("Observation").getBytes(StandardCharsets.UTF_8),
                StandardCharsets.UTF_8)).contains("\"value\":5.10");
    }
}
