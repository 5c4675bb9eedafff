package org.healthexport.relay.source.fhir;

import com.sun.net.httpserver.HttpServer;
import org.healthexport.relay.auth.AccessTokens;
import org.healthexport.relay.auth.SourceAuth;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.http.SourceFiles;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobFile;
import org.healthexport.relay.job.JobState;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BulkManifestTest {
    private final FhirBulkStatus status = new FhirBulkStatus(null, null, null, null, 10_000);

    private BulkManifest parse(String json) throws IOException {
        return status.parse(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
    }

    static ExportJob job() {
        return job("https://fhir.example/r4/jobs/1");
    }

    static ExportJob job(String statusUrl) {
        return new ExportJob("j1", "s", "fhir-bulk", null, statusUrl, JobState.RUNNING, null,
                null, Instant.now(), null, 0, null, null, null, null, null, Map.of(), Instant.now(), Instant.now());
    }

    @Test
    void aManifestPagedBeyondTheLimitIsRefusedBeforeThePageIsFetched() throws IOException {
        // files and auth are null: following the next link would fail with another error than the one asserted
        FhirBulkStatus limited = new FhirBulkStatus(
                new Sources(List.of(FhirBulkKickoffTest.source(Map.of()))),
                null, null, null, 10_000, 1);
        BulkManifest paged = parse("{\"transactionTime\":\"2026-01-01T00:00:00Z\",\"request\":\"https://x/$export\","
                + "\"requiresAccessToken\":true,\"output\":[],\"error\":[],"
                + "\"link\":[{\"relation\":\"next\",\"url\":\"https://x/manifest-2.json\"}]}");

        assertThatThrownBy(() -> limited.complete(job(), paged, null))
                .isInstanceOf(MalformedStatusException.class)
                .hasMessageContaining("past 1 pages (relay.http.max-manifest-pages)");
    }

    @Test
    void readsTheIgExampleAndIgnoresUnknownFields() throws IOException {
        BulkManifest m = parse("""
                {"transactionTime":"2021-01-01T00:00:00Z","request":"https://example.com/fhir/Patient/$export",
                 "requiresAccessToken":true,"newField":{"x":1},
                 "output":[{"type":"Patient","url":"https://example.com/output/patient_file_1.ndjson"},
                           {"type":"Observation","url":"https://example.com/output/observation_file_1.ndjson","count":7}],
                 "deleted":[{"type":"Bundle","url":"https://example.com/output/del_file_1.ndjson"}],
                 "error":[{"type":"OperationOutcome","url":"https://example.com/output/err_file_1.ndjson"}],
                 "extension":{"https://example.com/extra-property":true}}""");
        assertThat(m.output()).hasSize(2);
        assertThat(m.output().get(1).count()).isEqualTo(7);
        assertThat(m.deleted()).hasSize(1);
        assertThat(m.error()).hasSize(1);
        assertThat(m.tokenRequired()).isTrue();
        assertThat(m.extension().has("https://example.com/extra-property")).isTrue();
    }

    @Test
    void acceptsV4OutcomeForErrorAndMissingLists() throws IOException {
        BulkManifest m = parse("{\"transactionTime\":\"2021-01-01T00:00:00Z\",\"requiresAccessToken\":false,"
                + "\"output\":null,\"outcome\":[{\"type\":\"OperationOutcome\",\"url\":\"https://x/e.ndjson\"}]}");
        assertThat(m.output()).isEmpty();
        assertThat(m.deleted()).isEmpty();
        assertThat(m.error()).hasSize(1);
        assertThat(m.tokenRequired()).isFalse();
    }

    @Test
    void malformedBodiesAreClearErrors() {
        assertThatThrownBy(() -> parse("<html>")).isInstanceOf(MalformedStatusException.class)
                .hasMessageContaining("not a Bulk Data manifest");
        assertThatThrownBy(() -> parse("{\"output\":\"yes\"}")).isInstanceOf(MalformedStatusException.class);
    }

    @Test
    void aNextManifestPageBeyondTheLimitIsRefused() throws Exception {
        // the status body came through the route's boundedAnswer step; a next page is fetched here, so bounded here
        byte[] page = ("{\"output\":[" + "{\"type\":\"P\",\"url\":\"https://x/1\"},".repeat(400) + "{}]}")
                .getBytes(StandardCharsets.UTF_8);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/r4/manifest-2.json", ex -> {
            ex.sendResponseHeaders(200, page.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(page);
            }
        });
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/r4";
            Sources sources = new Sources(List.of(FhirBulkKickoffTest.source(Map.of("base-url", base))));
            SourceAuth auth = new SourceAuth(sources, null, null);
            auth.register("s", AccessTokens.NONE);
            // jobs is null: a page read past the limit would fail with another error than the one asserted
            FhirBulkStatus limited = new FhirBulkStatus(sources, null,
                    new SourceFiles(SourceFiles.client(SSLContext.getDefault(), true, Duration.ofSeconds(10),
                            Duration.ofSeconds(10), 4), 100), auth, 10_000);
            BulkManifest first = parse("{\"output\":[],\"link\":[{\"relation\":\"next\",\"url\":\""
                    + base + "/manifest-2.json\"}]}");
            assertThatThrownBy(() -> limited.complete(job(base + "/jobs/1"), first, null))
                    .isInstanceOf(MalformedStatusException.class)
                    .hasMessage("Refused status body larger than 10000 bytes");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void pagedManifestsAreJoined() throws IOException {
        BulkManifest first = parse("{\"output\":[{\"type\":\"Patient\",\"url\":\"https://x/1\"}],"
                + "\"link\":[{\"relation\":\"next\",\"url\":\"https://x/manifest-2.json\"}]}");
        assertThat(first.nextPage()).isEqualTo("https://x/manifest-2.json");
        BulkManifest all = first.append(parse("{\"output\":[{\"type\":\"Patient\",\"url\":\"https://x/2\"}]}"));
        assertThat(all.output()).extracting(BulkManifest.OutputFile::url).containsExactly("https://x/1", "https://x/2");
        assertThat(all.nextPage()).isNull();
    }

    @Test
    void planNumbersFilesPerTypeSanitisesTypesAndSkipsDuplicateUrls() throws IOException {
        BulkManifest m = parse("""
                {"output":[{"type":"Observation","url":"https://fhir.example/f/1"},
                           {"type":"Observation","url":"https://fhir.example/f/2"},
                           {"type":"Observation","url":"https://fhir.example/f/2"},
                           {"type":"../../etc/passwd","url":"/f/3"},
                           {"url":"https://fhir.example/f/4"}],
                 "error":[{"type":"OperationOutcome","url":"https://fhir.example/f/e"}],
                 "deleted":[{"type":"Bundle","url":"https://fhir.example/f/d"}]}""");
        List<JobFile> files = status.plan(job(), "s/j1", m);
        assertThat(files).extracting(JobFile::targetKey).containsExactly(
                "s/j1/Observation-1.ndjson", "s/j1/Observation-2.ndjson", "s/j1/_.._etc_passwd-1.ndjson",
                "s/j1/Resource-1.ndjson", "s/j1/error/OperationOutcome-1.ndjson", "s/j1/deleted/Bundle-1.ndjson");
        // relative URLs are resolved against the status URL
        assertThat(files.get(2).url()).isEqualTo("https://fhir.example/f/3");
        assertThat(files).extracting(JobFile::seq).containsExactly(1, 2, 3, 4, 5, 6);
    }

    @Test
    void anEntryWithoutUrlIsMalformed() throws IOException {
        BulkManifest m = parse("{\"output\":[{\"type\":\"Patient\"}]}");
        assertThatThrownBy(() -> status.plan(job(), "s/j1", m)).isInstanceOf(MalformedStatusException.class);
    }

    @Test
    void typesThatShareAKeyNameAreNumberedTogetherAndAnUnreadableUrlIsMalformed() throws IOException {
        // found by BulkManifestProperties: "a/b" and "a_b" both became a_b-1.ndjson, the second overwriting the first
        BulkManifest m = parse("""
                {"output":[{"type":"a/b","url":"https://fhir.example/f/1"},{"type":"a_b","url":"https://fhir.example/f/2"},
                           {"type":"a\\\\b","url":"https://fhir.example/f/3"}]}""");
        assertThat(status.plan(job(), "s/j1", m)).extracting(JobFile::targetKey)
                .containsExactly("s/j1/a_b-1.ndjson", "s/j1/a_b-2.ndjson", "s/j1/a_b-3.ndjson");
        BulkManifest bad = parse("{\"output\":[{\"type\":\"Patient\",\"url\":\"https://fhir.example/a b?sig=s3cret\"}]}");
        assertThatThrownBy(() -> status.plan(job(), "s/j1", bad)).isInstanceOf(MalformedStatusException.class)
                .hasMessageContaining("not a URL").hasMessageNotContaining("s3cret");
    }

    @Test
    void fiveThousandEntriesParseAndPlanEachUrlOnce() throws IOException {
        StringBuilder json = new StringBuilder("{\"transactionTime\":\"2021-01-01T00:00:00Z\",\"output\":[");
        for (int i = 0; i < 5000; i++) {
            json.append(i == 0 ? "" : ",").append("{\"type\":\"").append(i % 2 == 0 ? "Observation" : "../Patient")
                    .append("\",\"url\":\"https://fhir.example/files/").append(i % 4999).append(".ndjson?sig=s")
                    .append("\",\"count\":").append(i).append('}');
        }
        json.append("],\"error\":[null,{\"url\":\"https://fhir.example/files/7.ndjson?sig=s\"}]}");
        FhirBulkStatus large = new FhirBulkStatus(null, null, null, null, 16L * 1024 * 1024);
        BulkManifest m = large.parse(new ByteArrayInputStream(json.toString().getBytes(StandardCharsets.UTF_8)));
        List<JobFile> files = large.plan(job(), "s/j1", m);
        // every distinct URL once: the last output repeats the first, the error entry repeats an output (so it is
        // delivered once, as that output), the null entry is dropped
        assertThat(m.output()).hasSize(5000);
        assertThat(m.error()).hasSize(1);
        assertThat(files).hasSize(4999).extracting(JobFile::group).containsOnly("output");
        assertThat(files).extracting(JobFile::targetKey).doesNotHaveDuplicates()
                .contains("s/j1/Observation-2500.ndjson", "s/j1/_Patient-2499.ndjson");
    }
}
