package org.healthexport.relay.sandbox;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Faults a test queues for a sandbox's next requests of one kind (a kick-off, a status poll, a file), the same way
 * for every vendor: an answer instead of the vendor's (429, 503, a malformed or unknown status body), a delay
 * before the answer (a slow server) or a connection cut after half the body. Each queued fault is used by one
 * request, in order; the sandbox notes every request of each kind, so a test can check when the relay came back
 * (unless told not to: a benchmark's hundreds of thousands of polls are not kept).
 */
public final class ScriptedFaults {
    /**
     * Which of a sandbox's requests a fault is aimed at; each sandbox says which of its requests is which. KICKOFF:
     * the request that starts an export (a Bulk Data {@code $export}, HealthEx's {@code $updateData}, ...).
     */
    public enum Aim { KICKOFF, STATUS, FILE }

    /**
     * One fault. {@code code > 0}: answer with this code, headers and body instead of the vendor; {@code delay}:
     * wait before answering (then answer as scripted, or as the vendor would); {@code cut}: the vendor's answer,
     * its full length announced, cut after half the body ({@link #cutMidway()}).
     */
    public record Fault(int code, String contentType, byte[] body, Map<String, String> headers, Duration delay,
                        boolean cut) {
        public Fault {
            headers = Map.copyOf(headers);
            delay = delay == null ? Duration.ZERO : delay;
        }

        public static Fault answer(int code, String contentType, String body) {
            return new Fault(code, contentType, body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8),
                    Map.of(), Duration.ZERO, false);
        }

        public static Fault json(int code, String json) {
            return answer(code, "application/json", json);
        }

        /** An OperationOutcome of one issue: how FHIR servers (Bulk Data, Oracle, Redox, HealthEx) answer errors. */
        public static Fault operationOutcome(int code, String issueCode, String diagnostics) {
            return answer(code, "application/fhir+json", "{\"resourceType\":\"OperationOutcome\",\"issue\":"
                    + "[{\"severity\":\"error\",\"code\":\"" + issueCode + "\",\"diagnostics\":\"" + diagnostics
                    + "\"}]}");
        }

        public static Fault slow(Duration delay) {
            return new Fault(0, null, new byte[0], Map.of(), delay, false);
        }

        public static Fault cutMidway() {
            return new Fault(0, null, new byte[0], Map.of(), Duration.ZERO, true);
        }

        public Fault header(String name, String value) {
            Map<String, String> more = new LinkedHashMap<>(headers);
            more.put(name, value);
            return new Fault(code, contentType, body, more, delay, cut);
        }

        public Fault retryAfter(String value) {
            return header("Retry-After", value);
        }
    }

    /** A request a fault could have been aimed at, and the fault it got (null: answered as the vendor would). */
    public record Aimed(Aim aim, Instant at, String path, String requestId, Fault fault) { }

    private final Map<Aim, Queue<Fault>> queued = new EnumMap<>(Aim.class);
    // appended at every request, read by a test now and then: a copy-on-write list made each request cost O(n)
    private final Queue<Aimed> aimed = new ConcurrentLinkedQueue<>();
    private volatile boolean noting = true;

    public ScriptedFaults() {
        for (Aim aim : Aim.values()) {
            queued.put(aim, new ConcurrentLinkedQueue<>());
        }
    }

    public void queue(Aim aim, Fault... faults) {
        queued.get(aim).addAll(List.of(faults));
    }

    /** The next request of this kind takes the next queued fault (if any); either way the request is noted. */
    Fault take(Aim aim, String path, String requestId) {
        Fault fault = queued.get(aim).poll();
        if (noting) {
            aimed.add(new Aimed(aim, Instant.now(), path, requestId, fault));
        }
        return fault;
    }

    /** Stops (or resumes) noting requests; queued faults are still taken. */
    void noting(boolean on) {
        this.noting = on;
    }

    public List<Aimed> requests(Aim aim) {
        return aimed.stream().filter(a -> a.aim() == aim).toList();
    }

    public int pending(Aim aim) {
        return queued.get(aim).size();
    }

    /** Forgets queued faults and noted requests: each test starts clean. */
    public void reset() {
        queued.values().forEach(Queue::clear);
        aimed.clear();
    }
}
