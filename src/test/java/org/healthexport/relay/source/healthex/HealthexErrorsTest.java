package org.healthexport.relay.source.healthex;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HealthexErrorsTest {
    private final HealthexErrors errors = new HealthexErrors();

    @Test
    void readsNestStyleOperationOutcomeAndPlainBodies() {
        assertThat(errors.read(404, "{\"statusCode\":404,\"message\":\"Project not found\",\"error\":\"Not Found\"}").text())
                .isEqualTo("HTTP 404: Project not found");
        assertThat(errors.read(400, "{\"statusCode\":400,\"message\":[\"a must be set\",\"b too\"]}").text())
                .isEqualTo("HTTP 400: a must be set; b too");
        assertThat(errors.read(403, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"diagnostics\":\"no\"}]}").text())
                .isEqualTo("HTTP 403: no");
        assertThat(errors.read(502, "<html>\n<body>Bad   Gateway</body></html>").text())
                .isEqualTo("HTTP 502: <html> <body>Bad Gateway</body></html>");
        assertThat(errors.read(500, null).text()).isEqualTo("HTTP 500");
    }

    @Test
    void onlyTimeoutsThrottlingAndServerErrorsAreTransient() {
        assertThat(errors.read(429, "").isTransient()).isTrue();
        assertThat(errors.read(408, "").isTransient()).isTrue();
        assertThat(errors.read(503, "").isTransient()).isTrue();
        assertThat(errors.read(400, "").isTransient()).isFalse();
        assertThat(errors.read(404, "").isTransient()).isFalse();
    }

    @Test
    void recognisesAPausedOrInactiveStudy() {
        assertThat(errors.read(400, "{\"message\":\"Study is paused\"}").isStudyNotActive()).isTrue();
        assertThat(errors.read(409, "{\"message\":\"Study is inactive\"}").isStudyNotActive()).isTrue();
        assertThat(errors.read(422, "{\"message\":\"Project is not active\"}").isStudyNotActive()).isTrue();
        assertThat(errors.read(400, "{\"message\":\"Bad body\"}").isStudyNotActive()).isFalse();
    }

    @Test
    void longBodiesAreCutShort() {
        assertThat(errors.read(500, "x".repeat(5000)).text()).hasSizeLessThan(400).endsWith("…");
    }
}
