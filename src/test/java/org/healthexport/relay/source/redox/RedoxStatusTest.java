package org.healthexport.relay.source.redox;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Redox status answers read into what the route switches on. */
class RedoxStatusTest {
    final RedoxStatus status = new RedoxStatus(null, null);

    /** The example of Redox's status-check-response page, as published. */
    static final String COMPLETE = """
            {"Meta":{"DataModel":"FHIR Bulk Data Access","EventType":"status-check-response",
              "EventDateTime":"2026-05-28T22:44:52.399Z","Test":true,
              "Source":{"ID":"7ce6f387-c33c-417d-8682-81e83628cbd9","Name":"Redox Dev Tools"},
              "Destinations":[{"ID":"af394f14-b34a-464f-8d24-895f370af4c9","Name":"Redox EMR"}],
              "Logs":[{"ID":"d9f5d293-7110-461e-a875-3beb089e79f3","AttemptID":"925d1617-2fe0-468c-a14c-f8c04b572c54"}],
              "FacilityCode":null},
             "status":200,"progress":null,"transactionTime":"2024-02-20T10:00:00Z",
             "request":"/fhir/$export?_since=2024-01-01","requiresAccessToken":true,
             "output":[{"type":"Patient","url":"https://api.redoxengine.com/fhir/R4/example-destination/Development/BulkStatus/e4b4a01a/patient-file-001.ndjson.gz"},
                       {"type":"Encounter","url":"https://api.redoxengine.com/fhir/R4/example-destination/Development/BulkStatus/e4b4a01a/encounter-file-001.ndjson.gz"}]}
            """;

    RedoxStatusCheck read(int code, String progress, String body) throws IOException {
        return status.read(code, progress, body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theDocumentedCompleteEnvelopeGivesStatus200TheManifestAndTheLogId() throws IOException {
        RedoxStatusCheck c = read(200, null, COMPLETE);
        assertThat(c.status()).isEqualTo("200");
        assertThat(c.envelope()).isTrue();
        assertThat(c.eventType()).isEqualTo("status-check-response");
        assertThat(c.logIds()).containsExactly("d9f5d293-7110-461e-a875-3beb089e79f3");
        assertThat(c.attemptIds()).containsExactly("925d1617-2fe0-468c-a14c-f8c04b572c54");
        assertThat(c.manifest().output()).extracting(o -> o.type()).containsExactly("Patient", "Encounter");
        assertThat(c.manifest().tokenRequired()).isTrue();
        assertThat(c.manifest().transactionTime()).isEqualTo("2024-02-20T10:00:00Z");
        assertThat(c.isError()).isFalse();
    }

    @Test
    void anInProgressEnvelopeGivesStatus202AndItsProgressWhateverTheHttpCode() throws IOException {
        String body = COMPLETE.replace("\"status\":200,\"progress\":null", "\"status\":\"202\",\"progress\":\"50%\"");
        for (int http : new int[] {200, 202}) {
            RedoxStatusCheck c = read(http, null, body);
            assertThat(c.status()).isEqualTo("202");
            assertThat(c.progress()).isEqualTo("50%");
            assertThat(c.manifest()).isNull();
        }
    }

    @Test
    void plainHl7AnswersAreReadToo() throws IOException {
        RedoxStatusCheck running = read(202, "40% complete", "");
        assertThat(running.status()).isEqualTo("202");
        assertThat(running.progress()).isEqualTo("40% complete");
        assertThat(running.envelope()).isFalse();
        RedoxStatusCheck done = read(200, null, "{\"transactionTime\":\"2024-02-20T10:00:00Z\",\"request\":\"x\","
                + "\"requiresAccessToken\":false,\"output\":[{\"type\":\"Patient\",\"url\":\"https://h/p\"}],\"error\":[]}");
        assertThat(done.status()).isEqualTo("200");
        assertThat(done.manifest().tokenRequired()).isFalse();
        assertThat(done.logIds()).isEmpty();
    }

    @Test
    void unknownAndErrorStatusesAreKeptAsGiven() throws IOException {
        RedoxStatusCheck odd = read(200, null, COMPLETE.replace("\"status\":200", "\"status\":\"queued\""));
        assertThat(odd.status()).isEqualTo("queued");
        assertThat(odd.isError()).isFalse();
        RedoxStatusCheck failed = read(200, null, COMPLETE.replace("\"status\":200", "\"status\":500"));
        assertThat(failed.isError()).isTrue();
        assertThat(failed.isTransient()).isTrue();
        assertThat(failed.describe()).contains("status 500").contains("d9f5d293-7110-461e-a875-3beb089e79f3");
        assertThatThrownBy(() -> read(200, null, "<html>")).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> read(200, null, "")).hasMessageContaining("without a status body");
    }
}
