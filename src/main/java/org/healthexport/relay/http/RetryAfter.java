package org.healthexport.relay.http;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * A Retry-After header (RFC 9110 10.2.3): delay-seconds or an HTTP-date. The JDK parses the date; the
 * seconds form and the "in the past" rule are the only logic here.
 */
public final class RetryAfter {
    /** The longest wait a header can ask for: beyond it a value is a mistake (or a year 9999 date), not a plan. */
    public static final Duration MAX_WAIT = Duration.ofDays(365);

    private RetryAfter() {
    }

    /**
     * The wait the header asks for, measured from {@code now}, within [0, {@link #MAX_WAIT}]; empty when absent or
     * unreadable.
     */
    public static Optional<Duration> parse(String header, Instant now) {
        if (header == null || header.isBlank()) {
            return Optional.empty();
        }
        String value = header.trim();
        if (value.chars().allMatch(Character::isDigit)) {
            try {
                return Optional.of(atMost(Duration.ofSeconds(Long.parseLong(value))));
            } catch (NumberFormatException tooLarge) {
                return Optional.of(MAX_WAIT);
            }
        }
        try {
            Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            Duration wait = Duration.between(now, at);
            return Optional.of(wait.isNegative() ? Duration.ZERO : atMost(wait));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static Duration atMost(Duration wait) {
        return wait.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : wait;
    }
}
