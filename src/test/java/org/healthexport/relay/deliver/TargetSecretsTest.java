package org.healthexport.relay.deliver;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TargetSecretsTest {
    @Test
    void everySecretIsTakenOutOfTheWholeCauseChainAndTheStackTracesStay() {
        TargetSecrets secrets = new TargetSecrets(Arrays.asList("s3cr3t-KEY", "pass phrase", null, ""));
        IllegalStateException root = new IllegalStateException("login with pass phrase refused");
        RuntimeException middle = new RuntimeException("signature for s3cr3t-KEY did not match", root);

        IOException failure = secrets.failure("S3 upload of s3://b/k", middle);

        StringWriter text = new StringWriter();
        failure.printStackTrace(new PrintWriter(text));
        assertThat(text.toString()).doesNotContain("s3cr3t-KEY", "pass phrase")
                .contains("S3 upload of s3://b/k failed", "REDACTED", "java.lang.IllegalStateException");
        assertThat(failure.getCause().getStackTrace()).isEqualTo(middle.getStackTrace());
        assertThat(failure.getCause().getCause().getStackTrace()).isEqualTo(root.getStackTrace());
        assertThat(secrets.redact(null)).isNull();
        assertThat(new TargetSecrets(List.of()).redact("nothing to hide")).isEqualTo("nothing to hide");
    }

    @Test
    void aSecretFormedAgainAroundTheMarkerOrInsideAnotherIsTakenOutToo() {
        // found by TargetSecretsProperties: "RRRRRRR" + "REDACTED" holds "RRRRRRRRE" again
        assertThat(new TargetSecrets(List.of("RRRRRRRRE")).redact("RRRRRRRRRRRRRRRE")).doesNotContain("RRRRRRRRE");
        assertThat(new TargetSecrets(List.of("pass-word", "my pass-word!")).redact("key my pass-word! was refused"))
                .isEqualTo("key REDACTED was refused");
    }
}
