package org.healthexport.relay.job;

import org.healthexport.relay.job.FaultLine.Fault;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class FaultLineTest {
    static final ExportJob JOB = new ExportJob("5f0c-1", "acme", "fhir-bulk", "v1", "https://x/jobs/1",
            JobState.RUNNING, null, null, Instant.EPOCH, null, 0, null, null, null, null, null, Map.of(), null, null);

    @Test
    void everyKeyOnOneLine() {
        assertThat(FaultLine.format(JOB, Fault.RATE_LIMITED, 429, "req-42", Duration.ofSeconds(2), JobState.RUNNING,
                "HTTP 429: throttled")).isEqualTo("job.fault job=5f0c-1 source=acme kind=fhir-bulk fault=rate-limited "
                + "status=429 requestId=req-42 retryIn=2s state=RUNNING reason=\"HTTP 429: throttled\"");
    }

    @Test
    void missingValuesAreDashes() {
        assertThat(FaultLine.format(JOB, Fault.TARGET_FAILED, null, null, null, JobState.DELIVERING, null))
                .isEqualTo("job.fault job=5f0c-1 source=acme kind=fhir-bulk fault=target-failed status=- requestId=- "
                        + "retryIn=- state=DELIVERING reason=\"\"");
    }

    @Test
    void waitsReadAsMillisecondsOrSeconds() {
        assertThat(FaultLine.duration(Duration.ofMillis(350))).isEqualTo("350ms");
        assertThat(FaultLine.duration(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(FaultLine.duration(Duration.ofMinutes(2))).isEqualTo("120s");
    }

    @Test
    void aVendorRequestIdCannotBreakTheLine() {
        assertThat(FaultLine.token("abc 123\nfake=1")).isEqualTo("abc_123_fake=1");
        assertThat(FaultLine.token("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
                .isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assertThat(FaultLine.token("x".repeat(500))).hasSize(128);
    }

    @Test
    void theReasonLosesSecretsLineBreaksAndUnescapedQuotes() {
        String reason = FaultLine.reason("GET https://bucket.s3.amazonaws.com/f.ndjson?X-Amz-Signature=abc123&x=1 "
                + "answered 403\nwith \"Authorization: Bearer eyJhbGciOi.secret\"");
        assertThat(reason).doesNotContain("abc123").doesNotContain("eyJhbGciOi").doesNotContain("\n")
                .contains("X-Amz-Signature=REDACTED").contains("Bearer REDACTED").contains("\\\"Authorization");
    }

    @Test
    void aLongReasonIsCutBeforeEscaping() {
        String reason = FaultLine.reason("\"".repeat(400));
        assertThat(reason).endsWith("…").doesNotContain("\\…");
        assertThat(reason.replace("\\\"", "")).isEqualTo("…");
    }
}
