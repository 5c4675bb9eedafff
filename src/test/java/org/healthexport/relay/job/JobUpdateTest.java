package org.healthexport.relay.job;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class JobUpdateTest {
    /** A job's last error is stored and served by the API: a presigned link or a token in it never is. */
    @Test
    void aLastErrorIsStoredWithoutUrlSecretsOrCredentials() {
        JobUpdate update = JobUpdate.keepState().lastError("IllegalArgumentException: Illegal character at index 9: "
                + "https://b.example/a.ndjson?X-Amz-Signature=s3cret (Bearer tok-123)");

        assertThat(update.lastError).contains("https://b.example/a.ndjson?X-Amz-Signature=REDACTED")
                .doesNotContain("s3cret").doesNotContain("tok-123");
        assertThat(JobUpdate.keepState().lastError(null).lastError).isNull();
    }
}
