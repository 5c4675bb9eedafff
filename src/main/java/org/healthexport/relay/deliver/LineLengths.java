package org.healthexport.relay.deliver;

import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.http.RefusedFileException;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * Measures NDJSON lines as the bytes stream by (bytes since the last {@code '\n'}, nothing buffered) against
 * {@code relay.download.max-line-bytes}: in {@code report} mode the file goes through untouched and the
 * oversized lines are counted; in {@code refuse} mode the first oversized line stops the download. One instance
 * per file.
 */
public final class LineLengths {
    private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long NEWLINES = 0x0A0A0A0A0A0A0A0AL;
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH_BITS = 0x8080808080808080L;
    public static final long DEFAULT_MAX_LINE_BYTES = 64L * 1024 * 1024;
    private final long limit;
    private final boolean refuse;
    private final String file;
    private long line = 1;
    private long current;
    private boolean currentOversized;
    private long oversized;
    private long firstOversizedLine;
    private long longest;
    private String refusal;

    /** What {@code relay.download.max-line-bytes} and {@code relay.download.oversized-lines} ask for. */
    public record Limit(long maxLineBytes, boolean refuse) {
        public static final Limit NONE = new Limit(0, false);

        public static Limit from(RelayProperties props) {
            long max = props.getLong("relay.download.max-line-bytes", DEFAULT_MAX_LINE_BYTES);
            if (max < 0) {
                throw new ConfigurationException("relay.download.max-line-bytes must be 0 (no limit) or more, not " + max);
            }
            String mode = props.get("relay.download.oversized-lines", "report").toLowerCase(Locale.ROOT);
            if (!mode.equals("report") && !mode.equals("refuse")) {
                throw new ConfigurationException("relay.download.oversized-lines must be report or refuse, not '"
                        + mode + "'");
            }
            return new Limit(max, mode.equals("refuse"));
        }

        public boolean active() {
            return maxLineBytes > 0;
        }

        public String mode() {
            return refuse ? "refuse" : "report";
        }
    }

    public LineLengths(Limit limit, String file) {
        this.limit = limit.maxLineBytes();
        this.refuse = limit.refuse();
        this.file = file;
    }

    /** The next bytes of the file, in order. */
    public void update(byte[] buf, int off, int len) throws RefusedFileException {
        if (limit <= 0) {
            return;
        }
        int end = off + len;
        int start = off;
        for (int nl = indexOfNewline(buf, start, end); nl >= 0; nl = indexOfNewline(buf, start, end)) {
            current += nl - start;
            checkCurrent();
            endLine();
            start = nl + 1;
        }
        current += end - start;
        checkCurrent();
    }

    /**
     * Index of the first {@code '\n'} in {@code buf[from, to)}, or -1. Eight bytes at a time (the classic
     * "has a zero byte" test on the word XOR newlines): this runs over every byte of every NDJSON file, and
     * byte by byte it was four fifths of a 1 GiB delivery's CPU; the JDK has no public byte search in an array.
     * In a little-endian word the lowest flagged byte is always a real match (false flags only sit above one).
     */
    static int indexOfNewline(byte[] buf, int from, int to) {
        int i = from;
        for (; i <= to - Long.BYTES; i += Long.BYTES) {
            long x = (long) WORDS.get(buf, i) ^ NEWLINES;
            long found = (x - ONES) & ~x & HIGH_BITS;
            if (found != 0) {
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (buf[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private void checkCurrent() throws RefusedFileException {
        if (current > limit && !currentOversized) {
            currentOversized = true;
            oversized++;
            if (firstOversizedLine == 0) {
                firstOversizedLine = line;
            }
            if (refuse) {
                refusal = "Refused " + file + ": line " + line + " is longer than " + limit + " bytes"
                        + " (relay.download.max-line-bytes; relay.download.oversized-lines=refuse)";
                throw new RefusedFileException(refusal);
            }
        }
    }

    /** The end of the file: a last line without {@code '\n'} counts too. */
    public void finish() {
        if (limit > 0 && current > 0) {
            endLine();
        }
    }

    private void endLine() {
        longest = Math.max(longest, current);
        current = 0;
        currentOversized = false;
        line++;
    }

    /** Why the file was refused; null while it is not. */
    public String refusal() {
        return refusal;
    }

    public long oversizedLines() {
        return oversized;
    }

    /** Line number (from 1) of the first line over the limit; 0 when none. */
    public long firstOversizedLine() {
        return firstOversizedLine;
    }

    /** Bytes of the longest line (without its {@code '\n'}), once {@link #finish()}ed. */
    public long longestLine() {
        return longest;
    }

    /** For the log and the receipt; null when no line was over the limit. */
    public String note() {
        if (oversized == 0) {
            return null;
        }
        return oversized + " line(s) longer than relay.download.max-line-bytes (" + limit + " bytes), the first is line "
                + firstOversizedLine + ", the longest " + longest + " bytes; delivered unchanged";
    }
}
