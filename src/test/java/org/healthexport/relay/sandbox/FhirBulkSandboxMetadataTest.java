package org.healthexport.relay.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code GET [base]/metadata}: a CapabilityStatement naming the export operations and, with OAuth, the token URL. */
class FhirBulkSandboxMetadataTest {
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void answersItsCapabilityStatementWithoutAToken() throws Exception {
        FhirBulkSandbox sandbox = new FhirBulkSandbox("127.0.0.1", 0).requireToken("secret");
        sandbox.start();
        try {
            JsonNode statement = metadata(sandbox);
            assertThat(statement.path("resourceType").asText()).isEqualTo("CapabilityStatement");
            assertThat(statement.path("fhirVersion").asText()).isEqualTo("4.0.1");
            JsonNode rest = statement.path("rest").path(0);
            assertThat(rest.path("mode").asText()).isEqualTo("server");
            assertThat(rest.path("operation").findValuesAsText("definition"))
                    .containsExactly("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export");
            assertThat(rest.path("resource").findValuesAsText("type")).containsExactly("Patient", "Group");
            assertThat(rest.path("resource").findValuesAsText("definition")).containsExactly(
                    "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
                    "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export");
            assertThat(rest.has("security")).as("no token endpoint without OAuth clients").isFalse();
        } finally {
            sandbox.stop();
        }
    }

    @Test
    void namesItsTokenEndpointOnceClientsAreRegistered() throws Exception {
        FhirBulkSandbox sandbox = new FhirBulkSandbox("127.0.0.1", 0).registerClient("bench", "s3cret");
        sandbox.start();
        try {
            JsonNode oauthUris = metadata(sandbox).path("rest").path(0).path("security").path("extension").path(0);
            assertThat(oauthUris.path("url").asText())
                    .isEqualTo("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
            assertThat(oauthUris.path("extension").path(0).path("url").asText()).isEqualTo("token");
            assertThat(oauthUris.path("extension").path(0).path("valueUri").asText()).isEqualTo(sandbox.tokenUrl());
        } finally {
            sandbox.stop();
        }
    }

    private JsonNode metadata(FhirBulkSandbox sandbox) throws Exception {
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(sandbox.fhirBase() + "metadata"))
                .header("Accept", "application/fhir+json").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).contains("json"));
        return new ObjectMapper().readTree(answer.body());
    }
}
