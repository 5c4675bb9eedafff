package org.healthexport.relay.sandbox;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** The sandbox options the benchmarks use: N small output files, and no request recording. */
class FhirBulkSandboxBenchOptionsTest {
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void listsAndServesSmallFilesAndCanStopRecording() throws Exception {
        FhirBulkSandbox sandbox = new FhirBulkSandbox("127.0.0.1", 0).pollsBeforeReady(0).smallFiles(3);
        sandbox.start();
        try {
            String status = get(sandbox.fhirBase() + "Patient/$export").headers().firstValue("Content-Location").orElseThrow();
            String manifest = get(status).body();
            assertThat(manifest).contains("Small-1.ndjson", "Small-3.ndjson").doesNotContain("Small-4.ndjson");
            String files = status.replace("/jobs/", "/files/") + "/";
            HttpResponse<String> small = get(files + "Small-3.ndjson");
            assertThat(small.statusCode()).isEqualTo(200);
            assertThat(small.body()).isEqualTo(new String(sandbox.content("Small-3.ndjson")));
            assertThat(small.body()).isNotEqualTo(new String(sandbox.content("Small-2.ndjson")));
            assertThat(get(files + "Small-4.ndjson").statusCode()).isEqualTo(404);
            assertThat(sandbox.requests()).hasSize(4);

            sandbox.recordRequests(false);
            get(files + "Small-1.ndjson");
            assertThat(sandbox.requests()).hasSize(4);
        } finally {
            sandbox.stop();
        }
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Prefer", "respond-async").build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
