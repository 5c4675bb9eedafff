package org.healthexport.relay.http;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackoffTest {
    private static Backoff backoff(double random) {
        return new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofMinutes(10), 2.0, () -> random);
    }

    @Test
    void growsExponentiallyWithEqualJitter() {
        // attempt n: base 2s * 2^n, half fixed and half random
        assertThat(backoff(0.0).afterAttempt(0)).isEqualTo(Duration.ofSeconds(1));
        assertThat(backoff(1.0).afterAttempt(0)).isEqualTo(Duration.ofSeconds(2));
        assertThat(backoff(1.0).afterAttempt(3)).isEqualTo(Duration.ofSeconds(16));
        assertThat(backoff(0.5).afterAttempt(3)).isEqualTo(Duration.ofSeconds(12));
    }

    @Test
    void isCappedAtTheMaximum() {
        assertThat(backoff(1.0).afterAttempt(30)).isEqualTo(Duration.ofMinutes(10));
        assertThat(backoff(1.0).afterAttempt(Integer.MAX_VALUE)).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void serverWaitWinsAndIsClamped() {
        assertThat(backoff(0.3).next(Optional.of(Duration.ofSeconds(600)), 5)).isEqualTo(Duration.ofSeconds(600));
        assertThat(backoff(0.3).next(Optional.of(Duration.ZERO), 5)).isEqualTo(Duration.ofSeconds(1));
        assertThat(backoff(0.3).next(Optional.of(Duration.ofHours(5)), 0)).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void refusesMinimumAboveMaximum() {
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(1), Duration.ofHours(2), Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
