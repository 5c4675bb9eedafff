package org.healthexport.relay.http;

import java.time.Duration;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * How long to wait before asking again: a server's Retry-After when it gave one, clamped to [min, max];
 * otherwise exponential backoff with "equal jitter" (half fixed, half random) so many jobs started together
 * do not poll in lock-step.
 */
public final class Backoff {
    private final Duration initial;
    private final Duration min;
    private final Duration max;
    private final double multiplier;
    private final DoubleSupplier random;

    public Backoff(Duration initial, Duration min, Duration max, double multiplier, DoubleSupplier random) {
        if (min.compareTo(max) > 0) {
            throw new IllegalArgumentException("Minimum wait " + min + " is above the maximum " + max);
        }
        this.initial = initial;
        this.min = min;
        this.max = max;
        this.multiplier = multiplier;
        this.random = random;
    }

    public Backoff(Duration initial, Duration min, Duration max) {
        this(initial, min, max, 2.0, Math::random);
    }

    /** Exponential wait for the given attempt (0 = first retry), with jitter, within [min, max]. */
    public Duration afterAttempt(int attempt) {
        double base = initial.toMillis() * Math.pow(multiplier, Math.max(0, Math.min(attempt, 40)));
        double capped = Math.min(base, max.toMillis());
        long millis = (long) (capped / 2 + random.getAsDouble() * capped / 2);
        return clamp(Duration.ofMillis(millis));
    }

    /** The server's wait when it gave one, else the exponential wait for this attempt. */
    public Duration next(Optional<Duration> retryAfter, int attempt) {
        return retryAfter.map(this::clamp).orElseGet(() -> afterAttempt(attempt));
    }

    public Duration clamp(Duration wait) {
        if (wait.compareTo(min) < 0) {
            return min;
        }
        return wait.compareTo(max) > 0 ? max : wait;
    }
}
