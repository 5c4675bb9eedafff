package org.healthexport.relay.deliver;

import org.apache.camel.impl.DefaultCamelContext;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.http.RefusedFileException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LineLengthsTest {
    private static final LineLengths.Limit REPORT_5 = new LineLengths.Limit(5, false);
    private static final LineLengths.Limit REFUSE_5 = new LineLengths.Limit(5, true);

    /** Feeds the bytes in random chunks, as a network read would deliver them. */
    private static LineLengths feed(LineLengths.Limit limit, String text, long seed) throws Exception {
        LineLengths lines = new LineLengths(limit, "bulk/j1/Patient-1.ndjson");
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        Random random = new Random(seed);
        int off = 0;
        while (off < bytes.length) {
            int n = Math.min(bytes.length - off, 1 + random.nextInt(4));
            lines.update(bytes, off, n);
            off += n;
        }
        lines.finish();
        return lines;
    }

    @Test
    void linesAreMeasuredAcrossChunkBoundaries() throws Exception {
        for (long seed = 0; seed < 20; seed++) {
            LineLengths lines = feed(REPORT_5, "aaaaa\nbbbbbbb\ncc\ndddddd\ne", seed);
            assertThat(lines.oversizedLines()).isEqualTo(2);
            assertThat(lines.firstOversizedLine()).isEqualTo(2);
            assertThat(lines.longestLine()).isEqualTo(7);
            assertThat(lines.refusal()).isNull();
        }
    }

    @Test
    void aLineOfExactlyTheLimitIsNotOversizedAndTheNoteIsNullThen() throws Exception {
        LineLengths lines = feed(REPORT_5, "aaaaa\nbbbbb\n", 1);
        assertThat(lines.oversizedLines()).isZero();
        assertThat(lines.longestLine()).isEqualTo(5);
        assertThat(lines.note()).isNull();
    }

    @Test
    void aLastLineWithoutNewlineCounts() throws Exception {
        LineLengths lines = feed(REPORT_5, "a\nbbbbbbbbb", 2);
        assertThat(lines.oversizedLines()).isEqualTo(1);
        assertThat(lines.firstOversizedLine()).isEqualTo(2);
        assertThat(lines.longestLine()).isEqualTo(9);
        assertThat(lines.note()).contains("1 line(s)").contains("5 bytes").contains("line 2").contains("9 bytes");
    }

    @Test
    void refuseStopsAtTheFirstByteOverTheLimit() {
        LineLengths lines = new LineLengths(REFUSE_5, "bulk/j1/Observation-1.ndjson");
        byte[] ok = "12345\n12345".getBytes(StandardCharsets.US_ASCII);
        byte[] over = "6789".getBytes(StandardCharsets.US_ASCII);
        assertThat(lines.refusal()).isNull();
        assertThatCode(() -> lines.update(ok, 0, ok.length)).doesNotThrowAnyException();
        assertThatThrownBy(() -> lines.update(over, 0, over.length)).isInstanceOf(RefusedFileException.class)
                .hasMessage("Refused bulk/j1/Observation-1.ndjson: line 2 is longer than 5 bytes"
                        + " (relay.download.max-line-bytes; relay.download.oversized-lines=refuse)");
        assertThat(lines.refusal()).contains("line 2");
    }

    @Test
    void noLimitMeasuresNothing() throws Exception {
        LineLengths lines = feed(LineLengths.Limit.NONE, "x".repeat(1000), 3);
        assertThat(lines.oversizedLines()).isZero();
        assertThat(LineLengths.Limit.NONE.active()).isFalse();
    }

    @Test
    void theMeasuredStreamPassesEveryByteUnchanged() throws Exception {
        byte[] content = ("{\"a\":1}\n" + "{\"long\":\"" + "y".repeat(300) + "\"}\n" + "\u00e9\n")
                .getBytes(StandardCharsets.UTF_8);
        LineLengths lines = new LineLengths(new LineLengths.Limit(100, false), "k.ndjson");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExecutorService hashers = Executors.newSingleThreadExecutor();
        String sha256;
        try (Delivery.Measured measured = new Delivery.Measured(new ByteArrayInputStream(content), () -> { }, lines,
                hashers)) {
            measured.transferTo(out);
            sha256 = measured.sha256();
        } finally {
            hashers.shutdown();
        }
        lines.finish();
        assertThat(out.toByteArray()).isEqualTo(content);
        assertThat(sha256).isEqualTo(S3TargetTest.sha256(content));
        assertThat(lines.oversizedLines()).isEqualTo(1);
        assertThat(lines.firstOversizedLine()).isEqualTo(2);
    }

    @Test
    void theSettingsAreRead() {
        DefaultCamelContext camel = new DefaultCamelContext();
        RelayProperties props = new RelayProperties(camel);
        assertThat(LineLengths.Limit.from(props)).isEqualTo(new LineLengths.Limit(64L * 1024 * 1024, false));
        camel.getPropertiesComponent().addInitialProperty("relay.download.max-line-bytes", "1000");
        camel.getPropertiesComponent().addInitialProperty("relay.download.oversized-lines", "refuse");
        assertThat(LineLengths.Limit.from(props)).isEqualTo(new LineLengths.Limit(1000, true));
        camel.getPropertiesComponent().addInitialProperty("relay.download.oversized-lines", "truncate");
        assertThatThrownBy(() -> LineLengths.Limit.from(props)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("report or refuse");
    }
}
