package org.healthexport.relay.http;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class RetryAfterTest {
    private final Instant now = Instant.parse("2026-11-29T10:00:00Z");

    @Test
    void readsDelaySeconds() {
        assertThat(RetryAfter.parse("120", now)).contains(Duration.ofSeconds(120));
        assertThat(RetryAfter.parse(" 600 ", now)).contains(Duration.ofSeconds(600));
    }

    @Test
    void readsHttpDateRelativeToNow() {
        assertThat(RetryAfter.parse("Sun, 29 Nov 2026 10:05:00 GMT", now)).contains(Duration.ofMinutes(5));
    }

    @Test
    void aDateInThePastMeansNow() {
        assertThat(RetryAfter.parse("Sun, 29 Nov 2026 09:00:00 GMT", now)).contains(Duration.ZERO);
    }

    @Test
    void absentOrUnreadableIsEmpty() {
        assertThat(RetryAfter.parse(null, now)).isEmpty();
        assertThat(RetryAfter.parse("", now)).isEmpty();
        assertThat(RetryAfter.parse("soon", now)).isEmpty();
        assertThat(RetryAfter.parse("-5", now)).isEmpty();
    }

    @Test
    void hugeNumbersAreCappedNotCrashing() {
        assertThat(RetryAfter.parse("99999999999999999999999", now)).contains(Duration.ofDays(365));
    }
}
