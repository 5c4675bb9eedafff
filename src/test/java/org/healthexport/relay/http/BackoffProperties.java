package org.healthexport.relay.http;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

import java.time.Duration;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Backoff over any settings a source may configure, any attempt count and any jitter draw. */
class BackoffProperties {

    /** initial, min, max as configured: min <= max, each from 0 to a week. */
    record Settings(Duration initial, Duration min, Duration max, double multiplier) {
        Backoff with(double random) {
            return new Backoff(initial, min, max, multiplier, () -> random);
        }
    }

    @Provide
    Arbitrary<Settings> settings() {
        Arbitrary<Long> millis = Arbitraries.longs().between(0, Duration.ofDays(7).toMillis())
                .edgeCases(c -> c.add(0L, 1L, 1000L));
        return Combinators.combine(millis, millis, millis, Arbitraries.doubles().between(1.0, 10.0))
                .as((initial, a, b, m) -> new Settings(Duration.ofMillis(initial), Duration.ofMillis(Math.min(a, b)),
                        Duration.ofMillis(Math.max(a, b)), m));
    }

    @Property
    void everyWaitIsWithinMinAndMax(@ForAll("settings") Settings s, @ForAll int attempt,
                                    @ForAll @DoubleRange(min = 0, max = 1) double random) {
        Duration wait = s.with(random).afterAttempt(attempt);
        assertThat(wait).isBetween(s.min(), s.max());
    }

    @Property
    void waitsNeverShrinkAsAttemptsGrow(@ForAll("settings") Settings s,
                                        @ForAll @IntRange(min = -5, max = 100) int attempt,
                                        @ForAll @IntRange(min = 1, max = 50) int more,
                                        @ForAll @DoubleRange(min = 0, max = 1) double random) {
        Backoff b = s.with(random);
        assertThat(b.afterAttempt(attempt + more)).isGreaterThanOrEqualTo(b.afterAttempt(attempt));
    }

    @Property
    void jitterKeepsAtLeastHalfTheExponentialWaitAndNeverMore(@ForAll("settings") Settings s,
                                                              @ForAll @IntRange(min = 0, max = 60) int attempt,
                                                              @ForAll @DoubleRange(min = 0, max = 1) double random) {
        Backoff b = s.with(random);
        double exponential = Math.min(s.initial().toMillis() * Math.pow(s.multiplier(), Math.min(attempt, 40)),
                s.max().toMillis());
        Duration wait = b.afterAttempt(attempt);
        // "equal jitter": half fixed, half random; the clamp to [min, max] applies last
        assertThat(wait).isGreaterThanOrEqualTo(b.clamp(Duration.ofMillis((long) Math.floor(exponential / 2))));
        assertThat(wait).isLessThanOrEqualTo(b.clamp(Duration.ofMillis((long) Math.ceil(exponential))));
        // the fixed half alone (random 0) and the whole (random 1) bracket every draw
        assertThat(wait).isBetween(s.with(0).afterAttempt(attempt), s.with(1).afterAttempt(attempt));
    }

    @Property
    void theServersWaitIsClampedNotIgnored(@ForAll("settings") Settings s,
                                           @ForAll @IntRange(min = 0, max = 1_000_000) int seconds,
                                           @ForAll int attempt) {
        Duration asked = Duration.ofSeconds(seconds);
        Duration wait = s.with(0.5).next(Optional.of(asked), attempt);
        assertThat(wait).isBetween(s.min(), s.max());
        if (asked.compareTo(s.min()) >= 0 && asked.compareTo(s.max()) <= 0) {
            assertThat(wait).isEqualTo(asked);
        }
    }
}
