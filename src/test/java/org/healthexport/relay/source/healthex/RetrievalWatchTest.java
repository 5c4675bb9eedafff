package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.source.fhir.MalformedStatusException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which retrieval a status describes, and reading the status body; the job transitions run in the route test. */
class RetrievalWatchTest {
    static final Instant ASKED = Instant.parse("2025-03-01T10:00:00Z");
    static final HealthexSource SOURCE = new HealthexSource("hx", URI.create("https://api.healthex.io/"),
            URI.create("https://api.healthex.io/v1/auth/token"), URI.create("https://api.healthex.io/FHIR/R4/"),
            "prj", null, null, Duration.ofMinutes(10), Duration.ofHours(2), Duration.ofSeconds(30), 100, 1000,
            HealthexSource.DEFAULT_PATH);
    private final RetrievalWatch watch = new RetrievalWatch(Map.of("hx", SOURCE), null, null);

    static ExportJob job(String retrievalId, boolean updated) {
        Map<String, String> attributes = new HashMap<>();
        attributes.put(HealthexJobs.PATIENT_ID, "pat-1");
        if (retrievalId != null) {
            attributes.put(HealthexJobs.RETRIEVAL_ID, retrievalId);
        }
        if (updated) {
            attributes.put(HealthexJobs.UPDATE_AT, ASKED.toString());
        } else {
            attributes.put(HealthexJobs.REQUESTED_RETRIEVAL, retrievalId);
        }
        return new ExportJob("job-1", "hx", "healthex", null, null, JobState.RUNNING, null, null, ASKED, null, 0,
                null, null, null, null, null, attributes, ASKED.minusSeconds(5), ASKED);
    }

    static RetrievalStatus status(String retrievalId, Instant created) {
        return new RetrievalStatus("pat-1", retrievalId, "IN_PROGRESS", "IN_PROGRESS",
                created == null ? null : created.toString(), null, List.of(), null);
    }

    @Test
    void theRetrievalUpdateDataNamedIsNeverOlder() {
        assertThat(watch.isOlderRetrieval(job("b-2", true), status("b-2", ASKED.minusSeconds(3600)))).isFalse();
    }

    @Test
    void anotherRetrievalIsNewerOnlyWhenCreatedClearlyAfterTheRequest() {
        ExportJob job = job("b-2", true);
        assertThat(watch.isOlderRetrieval(job, status("b-1", ASKED.minusSeconds(5)))).isTrue();
        assertThat(watch.isOlderRetrieval(job, status("b-1", ASKED.plusSeconds(20)))).isTrue();
        assertThat(watch.isOlderRetrieval(job, status("b-3", ASKED.plusSeconds(31)))).isFalse();
        assertThat(watch.isOlderRetrieval(job, status("b-1", null))).isTrue();
    }

    @Test
    void withoutARetrievalIdTheFirstOneCreatedSinceTheRequestIsTheJobs() {
        ExportJob job = job(null, true);
        assertThat(watch.isOlderRetrieval(job, status("b-1", ASKED.minusSeconds(600)))).isTrue();
        assertThat(watch.isOlderRetrieval(job, status("b-2", ASKED.minusSeconds(10)))).isFalse();
        assertThat(watch.isOlderRetrieval(job, status("b-2", ASKED.plusSeconds(2)))).isFalse();
        assertThat(watch.isOlderRetrieval(job, status("b-2", null))).isFalse();
    }

    @Test
    void anAdoptedRetrievalFollowsWhateverTheStatusShows() {
        assertThat(watch.isOlderRetrieval(job("b-1", false), status("b-0", ASKED.minusSeconds(9999)))).isFalse();
    }

    @Test
    void readsTheDocumentedStatusAndKeepsTheBody() throws Exception {
        String body = """
                {"patientId":"17d4513f","retrievalId":"batch-abc123-def456","dataRetrievalStatus":"IN_PROGRESS",
                 "vectorizationStatus":"IN_PROGRESS","createdAt":"2024-01-15T10:30:00.000Z","updatedAt":null,
                 "locations":[{"locationId":"loc-hospital-123","locationName":"General Hospital",
                   "locationLogoUrl":"https://example.com/logo.png","locationSource":"TEFCA_DOCUMENT",
                   "dataRetrievalStatus":"COMPLETE","updatedAt":"2024-01-15T11:30:00.000Z","documentCount":5},
                  {"locationId":"loc-clinic-456","locationName":null,"locationSource":"USER_SELECTED",
                   "dataRetrievalStatus":"IN_PROGRESS","updatedAt":null,"documentCount":0}],
                 "newField":{"x":1}}""";
        RetrievalStatus s = watch.read(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
        assertThat(s.retrievalId()).isEqualTo("batch-abc123-def456");
        assertThat(s.created()).contains(Instant.parse("2024-01-15T10:30:00Z"));
        assertThat(s.updatedAt()).isNull();
        assertThat(s.locations()).extracting(RetrievalStatus.Location::dataRetrievalStatus)
                .containsExactly("COMPLETE", "IN_PROGRESS");
        assertThat(s.locations().get(1).locationName()).isNull();
        assertThat(s.locations().get(0).documentCount()).isEqualTo(5);
        assertThat(s.body()).isEqualTo(new ObjectMapper().readTree(body));
        assertThatThrownBy(() -> watch.read(new ByteArrayInputStream("[1]".getBytes())))
                .isInstanceOf(MalformedStatusException.class);
        assertThatThrownBy(() -> watch.read(new ByteArrayInputStream("<html>".getBytes())))
                .isInstanceOf(MalformedStatusException.class);
    }

    @Test
    void updateDataBodyFollowsTheJobThenTheSource() {
        HealthexSource skipping = new HealthexSource("hx", SOURCE.apiBase(), SOURCE.tokenUrl(), SOURCE.fhirBase(),
                "prj", null, true, SOURCE.pullAfter(), SOURCE.noRetrievalTimeout(), SOURCE.olderRetrievalSkew(), 100,
                1000, SOURCE.path());
        UpdateData plain = new UpdateData(Map.of("hx", SOURCE), null, null);
        UpdateData skip = new UpdateData(Map.of("hx", skipping), null, null);
        ExportJob job = job("b-1", true);
        assertThat(plain.body(job)).isEqualTo("{}");
        assertThat(skip.body(job)).isEqualTo("{\"skipInteractive\":true}");
        Map<String, String> attributes = new HashMap<>(job.attributes());
        attributes.put(HealthexJobs.SKIP_INTERACTIVE, "false");
        ExportJob overridden = new ExportJob(job.id(), job.sourceId(), job.kind(), null, null, job.state(), null,
                null, ASKED, null, 0, null, null, null, null, null, attributes, ASKED, ASKED);
        assertThat(skip.body(overridden)).isEqualTo("{\"skipInteractive\":false}");
    }

    @Test
    void theUrlsFollowTheDocs() {
        assertThat(SOURCE.updateDataUrl("17d4513f-73e8").toString()).isEqualTo(
                "https://api.healthex.io/v1/projects/prj/recruitment/identified-patients/17d4513f-73e8/$updateData");
        assertThat(SOURCE.statusUrl().toString()).isEqualTo("https://api.healthex.io/v1/patients/data-retrieval/status");
        assertThat(SOURCE.everythingUrl("p1").toString())
                .isEqualTo("https://api.healthex.io/FHIR/R4/Person/p1/$everything?_count=100&_offset=0");
    }
}
