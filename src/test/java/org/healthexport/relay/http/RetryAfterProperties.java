package org.healthexport.relay.http;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Retry-After as a server may send it: any delay-seconds, any HTTP-date, or anything else. */
class RetryAfterProperties {
    private static final Duration MAX = Duration.ofDays(365);

    @Property
    void delaySecondsIsThatWaitUpToTheCap(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long seconds,
                                          @ForAll("instants") Instant now) {
        Optional<Duration> wait = RetryAfter.parse(String.valueOf(seconds), now);
        assertThat(wait).isPresent();
        assertThat(wait.get()).isBetween(Duration.ZERO, MAX);
        if (seconds <= MAX.toSeconds()) {
            assertThat(wait.get()).isEqualTo(Duration.ofSeconds(seconds));
        }
    }

    @Property
    void digitsOfAnyLengthAreANonNegativeBoundedWait(@ForAll("digits") String digits, @ForAll("instants") Instant now) {
        assertThat(RetryAfter.parse(digits, now)).hasValueSatisfying(w -> assertThat(w).isBetween(Duration.ZERO, MAX));
    }

    @Property
    void anHttpDateIsTheTimeUntilItNeverNegativeNeverAboveTheCap(@ForAll("instants") Instant at,
                                                                  @ForAll("instants") Instant now) {
        String header = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.ofInstant(at, ZoneOffset.UTC));
        Optional<Duration> wait = RetryAfter.parse(header, now);
        assertThat(wait).isPresent();
        assertThat(wait.get()).isBetween(Duration.ZERO, MAX);
        Duration exact = Duration.between(now, at);
        if (!exact.isNegative() && exact.compareTo(MAX) <= 0) {
            assertThat(wait.get()).isEqualTo(exact);
        }
    }

    @Property(tries = 2000)
    void anythingElseIsEmptyOrABoundedWaitAndNeverThrows(@ForAll("garbage") String header,
                                                         @ForAll("instants") Instant now) {
        Optional<Duration> wait = RetryAfter.parse(header, now);
        wait.ifPresent(w -> assertThat(w).isBetween(Duration.ZERO, MAX));
    }

    @Provide
    Arbitrary<Instant> instants() {
        // RFC 1123 dates have four-digit years
        return Arbitraries.longs().between(Instant.parse("1000-01-01T00:00:00Z").getEpochSecond(),
                Instant.parse("9999-12-31T23:59:59Z").getEpochSecond()).map(Instant::ofEpochSecond);
    }

    @Provide
    Arbitrary<String> digits() {
        return Arbitraries.strings().numeric().ofMinLength(1).ofMaxLength(40)
                .map(s -> Arbitraries.of("", " ", "\t").sample() + s + Arbitraries.of("", " ").sample());
    }

    @Provide
    Arbitrary<String> garbage() {
        Arbitrary<String> anyText = Arbitraries.strings().all().ofMaxLength(60);
        Arbitrary<String> nearDates = Arbitraries.of("Sun, 29 Nov 2026 10:05:00 GMT", "Mon, 31 Feb 2026 10:05:00 GMT",
                        "Sun, 29 Nov 2026 25:61:61 GMT", "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                        "Sun Nov  6 08:49:37 1994", "Thu, 01 Jan 1970 00:00:00 +0000", "Fri, 31 Dec 9999 23:59:59 GMT")
                .flatMap(d -> Arbitraries.integers().between(0, d.length()).flatMap(i ->
                        Arbitraries.strings().all().ofMaxLength(3).map(s -> d.substring(0, i) + s + d.substring(i))));
        Arbitrary<String> numbers = Arbitraries.of("-1", "+5", "1.5", "1e3", "0x10", "٣", "１２", "𝟏", "5 s", "5,5",
                "9223372036854775807", "9223372036854775808", "-9223372036854775808");
        return Arbitraries.oneOf(anyText, nearDates, numbers, Arbitraries.just(null));
    }
}
