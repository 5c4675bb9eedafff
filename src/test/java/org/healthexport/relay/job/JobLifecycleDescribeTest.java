package org.healthexport.relay.job;

import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/** A job's last error: TLS failures first, in words, and never cut by the length limit. */
class JobLifecycleDescribeTest {
    @Test
    void aWrappedTlsFailureLeadsAndWhatWasCalledFollows() {
        String context = "S3 upload of s3://bucket/" + "k".repeat(600) + " failed";
        String text = JobLifecycle.describe(new IOException(context, new SSLHandshakeException(
                "PKIX path building failed: unable to find valid certification path to requested target")));
        assertThat(text).startsWith("TLS: the server's certificate is not trusted").contains("; during: S3 upload of")
                .hasSizeLessThanOrEqualTo(501);
        assertThat(JobLifecycle.describe(new IOException("Connection reset"))).isEqualTo("IOException: Connection reset");
    }
}
