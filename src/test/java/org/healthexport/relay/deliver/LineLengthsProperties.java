package org.healthexport.relay.deliver;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The word-at-a-time newline search against a byte-by-byte one, over bytes rich in near-misses of {@code '\n'}
 * (0x0A): its neighbours, its high-bit twin 0x8A, 0x00 and 0xFF, which a wrong bit trick would confuse with it.
 */
class LineLengthsProperties {

    @Property(tries = 3000)
    void theFirstNewlineIsFoundWhereverTheSearchStartsAndEnds(@ForAll("nearMisses") byte[] bytes,
                                                              @ForAll @IntRange(max = 80) int from,
                                                              @ForAll @IntRange(max = 80) int cut) {
        int start = Math.min(from, bytes.length);
        int end = Math.max(start, bytes.length - cut);
        assertThat(LineLengths.indexOfNewline(bytes, start, end)).isEqualTo(byteByByte(bytes, start, end));
    }

    @Property(tries = 1000)
    void theLongestLineAndTheOversizedCountDoNotDependOnHowTheBytesAreChunked(
            @ForAll("nearMisses") byte[] bytes, @ForAll @IntRange(min = 1, max = 40) int chunk,
            @ForAll @IntRange(min = 1, max = 30) int limit) throws Exception {
        LineLengths lines = new LineLengths(new LineLengths.Limit(limit, false), "bulk/j1/Patient-1.ndjson");
        for (int off = 0; off < bytes.length; off += chunk) {
            lines.update(bytes, off, Math.min(chunk, bytes.length - off));
        }
        lines.finish();

        List<Integer> lengths = lineLengths(bytes);
        assertThat(lines.longestLine()).isEqualTo(lengths.stream().mapToInt(Integer::intValue).max().orElse(0));
        assertThat(lines.oversizedLines()).isEqualTo(lengths.stream().filter(n -> n > limit).count());
    }

    @Provide
    Arbitrary<byte[]> nearMisses() {
        Arbitrary<Byte> b = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of((byte) '\n')),
                Tuple.of(10, Arbitraries.of((byte) 0x09, (byte) 0x0B, (byte) 0x8A, (byte) 0x00,
                        (byte) 0xFF, (byte) 0x1A, (byte) 0x7F, (byte) 0x80)),
                Tuple.of(20, Arbitraries.bytes()));
        return b.array(byte[].class).ofMaxSize(200);
    }

    private static int byteByByte(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            if (bytes[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Every line's length without its newline; a last line without one counts when it is not empty. */
    private static List<Integer> lineLengths(byte[] bytes) {
        List<Integer> lengths = new ArrayList<>();
        int current = 0;
        for (byte x : bytes) {
            if (x == '\n') {
                lengths.add(current);
                current = 0;
            } else {
                current++;
            }
        }
        if (current > 0) {
            lengths.add(current);
        }
        return lengths;
    }
}
