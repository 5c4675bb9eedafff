package org.healthexport.relay.source.fhir;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class OperationOutcomesTest {
    private final OperationOutcomes outcomes = new OperationOutcomes();

    @Test
    void transientIssueCodesAreRetried() {
        for (String code : new String[] {"transient", "throttled", "timeout", "lock-error", "exception", "incomplete", "no-store"}) {
            String body = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"" + code
                    + "\",\"diagnostics\":\"try later\"}]}";
            StatusError e = outcomes.read(500, body);
            assertThat(e.isTransient()).as(code).isTrue();
            assertThat(e.text()).isEqualTo("HTTP 500: try later");
        }
    }

    @Test
    void otherIssuesFailWithTheServersText() {
        String body = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"processing\","
                + "\"details\":{\"text\":\"An internal timeout has occurred\"}}]}";
        StatusError e = outcomes.read(500, body);
        assertThat(e.isTransient()).isFalse();
        assertThat(e.text()).isEqualTo("HTTP 500: An internal timeout has occurred");
        assertThat(outcomes.read(400, body.replace("processing", "invalid")).isTransient()).isFalse();
    }

    @Test
    void plainGatewayErrorsAndThrottlingAreRetried() {
        assertThat(outcomes.read(502, "<html>Bad Gateway</html>").isTransient()).isTrue();
        assertThat(outcomes.read(503, "").isTransient()).isTrue();
        assertThat(outcomes.read(504, null).isTransient()).isTrue();
        assertThat(outcomes.read(429, "").isTransient()).isTrue();
        assertThat(outcomes.read(404, "<html>nope</html>").isTransient()).isFalse();
        assertThat(outcomes.read(404, "<html>nope</html>").text()).contains("HTTP 404").contains("nope");
    }
}
