package org.healthexport.relay.http;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RedactionTest {
    @Test
    void removesPresignedSignaturesAndKeepsTheRest() {
        String url = "https://bucket.s3.amazonaws.com/f/1.ndjson?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA/x"
                + "&X-Amz-Signature=deadbeef&X-Amz-Security-Token=tok&part=2";
        assertThat(Redaction.url(url)).isEqualTo("https://bucket.s3.amazonaws.com/f/1.ndjson?X-Amz-Algorithm=AWS4"
                + "&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED&part=2");
    }

    @Test
    void removesUserInfoAndTokens() {
        assertThat(Redaction.url("https://user:pw@host/x?access_token=abc"))
                .isEqualTo("https://REDACTED@host/x?access_token=REDACTED");
    }

    @Test
    void leavesPlainUrlsAlone() {
        assertThat(Redaction.url("https://fhir.example/r4/files/a.ndjson")).isEqualTo("https://fhir.example/r4/files/a.ndjson");
        assertThat(Redaction.url(null)).isNull();
    }

    @Test
    void secretsInTheFragmentEncodedNamesAndUnusualHostsAreRedactedToo() {
        // found by RedactionProperties
        assertThat(Redaction.url("https://app.example/cb#access_token=abc&state=1"))
                .isEqualTo("https://app.example/cb#access_token=REDACTED&state=1");
        assertThat(Redaction.url("https://b.example/f?X-Amz-%53ignature=abc&part=2"))
                .isEqualTo("https://b.example/f?X-Amz-%53ignature=REDACTED&part=2");
        assertThat(Redaction.url("https://user:pw@my_bucket.s3.example.com/f"))
                .isEqualTo("https://REDACTED@my_bucket.s3.example.com/f");
    }

    @Test
    void aTextKeepsItsWordsAndLosesTheSecretsOfEveryUrlAndCredentialInIt() {
        String text = "GET https://b.example/f.ndjson?X-Amz-Signature=abc&part=2 answered 403; then "
                + "https://user:pw@h.example/x failed with Authorization: Bearer eyJhbGciOi.x.y";
        assertThat(Redaction.text(text)).isEqualTo("GET https://b.example/f.ndjson?X-Amz-Signature=REDACTED&part=2"
                + " answered 403; then https://REDACTED@h.example/x failed with Authorization: Bearer REDACTED");
        assertThat(Redaction.text(Redaction.text(text))).as("redacting twice changes nothing").isEqualTo(Redaction.text(text));
        assertThat(Redaction.text(null)).isNull();
    }
}
