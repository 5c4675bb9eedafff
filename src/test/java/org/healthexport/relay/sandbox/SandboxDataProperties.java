package org.healthexport.relay.sandbox;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The big NDJSON file's lines, made from slices of arrays, are the bytes their definition gives. */
class SandboxDataProperties {

    @Property
    void aLineIsItsDefinition(@ForAll @LongRange(min = 0, max = 1L << 50) long i) {
        assertThat(new String(SandboxData.line(i), StandardCharsets.US_ASCII)).isEqualTo(definition(i));
    }

    @Property(tries = 200)
    void theFileIsItsLinesInOrder(@ForAll @LongRange(min = 0, max = 5000) long bytes) throws Exception {
        StringBuilder expected = new StringBuilder();
        for (long i = 0; i < (bytes + 255) / 256; i++) {
            expected.append(definition(i));
        }
        byte[] file = SandboxData.bigNdjson(bytes).readAllBytes();
        assertThat(file).hasSize((int) SandboxData.bigNdjsonLength(bytes));
        assertThat(new String(file, StandardCharsets.US_ASCII)).isEqualTo(expected.toString());
    }

    /** 256 bytes (for any line of a file up to 256 PiB): the Observation's head, then letters {@code 'a' + (i + position) % 26}, then its tail. */
    private static String definition(long i) {
        String head = "{\"resourceType\":\"Observation\",\"id\":\"big-" + i + "\",\"status\":\"final\",\"note\":[{\"text\":\"";
        String tail = "\"}]}\n";
        StringBuilder sb = new StringBuilder(256).append(head);
        while (sb.length() < 256 - tail.length()) {
            sb.append((char) ('a' + (i + sb.length()) % 26));
        }
        return sb.append(tail).toString();
    }
}
