package org.healthexport.relay.sandbox;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;

/** Deterministic FHIR resources for the sandboxes: the same call always gives the same bytes. */
public final class SandboxData {
    private SandboxData() {
    }

    public static byte[] patients(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            sb.append("{\"resourceType\":\"Patient\",\"id\":\"p").append(i).append("\",\"name\":[{\"family\":\"Sandbox\",")
                    .append("\"given\":[\"Patient ").append(i).append("\"]}],\"birthDate\":\"19")
                    .append(50 + i % 50).append("-0").append(1 + i % 9).append("-1").append(i % 10).append("\"}\n");
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] observations(int patients, int part) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= patients; i++) {
            for (int k = 0; k < 3; k++) {
                sb.append("{\"resourceType\":\"Observation\",\"id\":\"o").append(part).append('-').append(i).append('-')
                        .append(k).append("\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",")
                        .append("\"code\":\"8867-4\"}]},\"subject\":{\"reference\":\"Patient/p").append(i)
                        .append("\"},\"valueQuantity\":{\"value\":").append(60 + (i * 7 + k * 13 + part) % 40)
                        .append(",\"unit\":\"/min\"}}\n");
            }
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] errors() {
        return ("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"warning\",\"code\":\"processing\","
                + "\"diagnostics\":\"Observation o-x could not be exported\"}]}\n").getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] deleted() {
        return ("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"request\":{\"method\":\"DELETE\","
                + "\"url\":\"Patient/p0\"}}]}\n").getBytes(StandardCharsets.UTF_8);
    }

    /** About {@code bytes} of NDJSON (whole 256-byte lines), generated as it is read: for benchmarks. */
    /** The length of {@link #bigNdjson(long)}: whole 256-byte lines. */
    public static long bigNdjsonLength(long bytes) {
        return (bytes + 255) / 256 * 256;
    }

    public static InputStream bigNdjson(long bytes) {
        long lines = (bytes + 255) / 256;
        return new InputStream() {
            private final byte[] current = new byte[LINE];
            private long line;
            private int pos = LINE;

            private boolean fill() {
                if (pos < LINE) {
                    return true;
                }
                if (line >= lines) {
                    return false;
                }
                line(line++, current);
                pos = 0;
                return true;
            }

            @Override
            public int read() {
                return fill() ? current[pos++] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (len == 0) {
                    return 0;
                }
                int n = 0;
                while (n < len && fill()) {
                    int chunk = Math.min(len - n, LINE - pos);
                    System.arraycopy(current, pos, b, off + n, chunk);
                    pos += chunk;
                    n += chunk;
                }
                return n == 0 ? -1 : n;
            }
        };
    }

    /** Reads {@code in} no faster than {@code bytesPerSecond}. */
    public static InputStream throttled(InputStream in, long bytesPerSecond) {
        return new FilterInputStream(in) {
            private final long start = System.nanoTime();
            private long read;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, Math.min(len, 16 * 1024));
                if (n > 0) {
                    read += n;
                    long due = start + read * 1_000_000_000L / bytesPerSecond;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        try {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new InterruptedIOException();
                        }
                    }
                }
                return n;
            }
        };
    }


    private static final int LINE = 256;
    private static final byte[] HEAD = "{\"resourceType\":\"Observation\",\"id\":\"big-".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] AFTER_ID = "\",\"status\":\"final\",\"note\":[{\"text\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TAIL = "\"}]}\n".getBytes(StandardCharsets.US_ASCII);
    /** 'a' to 'z' over and over: a line's filler is a slice of it, starting where the line number says. */
    private static final byte[] LETTERS = new byte[26 + LINE];

    static {
        for (int k = 0; k < LETTERS.length; k++) {
            LETTERS[k] = (byte) ('a' + k % 26);
        }
    }

    /** Line {@code i} of {@link #bigNdjson(long)}. */
    static byte[] line(long i) {
        byte[] out = new byte[LINE];
        line(i, out);
        return out;
    }

    /**
     * Line {@code i} into {@code out}: an Observation with id {@code big-<i>} and a note of letters up to 256 bytes,
     * the letter at each position {@code p} being {@code 'a' + (i + p) % 26}. Made from slices of constant arrays,
     * not a string per line: generating the bytes was most of the sandbox's CPU in the 1 GiB benchmarks, and the
     * sandbox shares the machine with what it measures.
     */
    static void line(long i, byte[] out) {
        System.arraycopy(HEAD, 0, out, 0, HEAD.length);
        int p = HEAD.length;
        int digits = 1;
        for (long rest = i / 10; rest > 0; rest /= 10) {
            digits++;
        }
        long rest = i;
        for (int d = p + digits - 1; d >= p; d--) {
            out[d] = (byte) ('0' + rest % 10);
            rest /= 10;
        }
        p += digits;
        System.arraycopy(AFTER_ID, 0, out, p, AFTER_ID.length);
        p += AFTER_ID.length;
        int filler = LINE - TAIL.length - p;
        System.arraycopy(LETTERS, (int) ((i + p) % 26), out, p, filler);
        System.arraycopy(TAIL, 0, out, LINE - TAIL.length, TAIL.length);
    }
}
