package org.healthexport.relay.sandbox;

import java.io.InputStream;
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
            private long line;
            private byte[] current = new byte[0];
            private int pos;

            private boolean fill() {
                if (pos < current.length) {
                    return true;
                }
                if (line >= lines) {
                    return false;
                }
                current = line(line++);
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
                    int chunk = Math.min(len - n, current.length - pos);
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
        return new java.io.FilterInputStream(in) {
            private final long start = System.nanoTime();
            private long read;

            @Override
            public int read(byte[] b, int off, int len) throws java.io.IOException {
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
                            throw new java.io.InterruptedIOException();
                        }
                    }
                }
                return n;
            }
        };
    }

    static byte[] line(long i) {
        String head = "{\"resourceType\":\"Observation\",\"id\":\"big-" + i + "\",\"status\":\"final\",\"note\":[{\"text\":\"";
        String tail = "\"}]}\n";
        StringBuilder sb = new StringBuilder(256).append(head);
        while (sb.length() < 256 - tail.length()) {
            sb.append((char) ('a' + (i + sb.length()) % 26));
        }
        return sb.append(tail).toString().getBytes(StandardCharsets.US_ASCII);
    }
}
