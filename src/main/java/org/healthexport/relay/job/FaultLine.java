package org.healthexport.relay.job;

import org.healthexport.relay.http.Redaction;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The one log line every fault or refusal of a job gets, as key=value pairs a log pipeline can parse:
 * <pre>job.fault job=&lt;id&gt; source=&lt;id&gt; kind=&lt;kind&gt; fault=&lt;fault&gt; status=&lt;HTTP code|-&gt;
 * requestId=&lt;vendor request id|-&gt; retryIn=&lt;wait|-&gt; state=&lt;state after&gt; reason="..."</pre>
 * Values the vendor controls are cleaned: the request id keeps only token characters, the reason loses its
 * line breaks, URL secrets (presigned signatures, user info) and bearer tokens.
 */
public final class FaultLine {
    /** What went wrong, as the {@code fault} key and the {@code relay_faults_total} label name it. */
    public enum Fault {
        RATE_LIMITED("rate-limited"),
        TRANSIENT("transient"),
        FATAL("fatal"),
        UNKNOWN_STATUS("unknown-status"),
        MALFORMED("malformed"),
        REFUSED_URL("refused-url"),
        FILE_FAILED("file-failed"),
        REFUSED_FILE("refused-file"),
        TARGET_FAILED("target-failed");

        private final String label;

        Fault(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    static final int MAX_REASON = 300;
    private static final Pattern NOT_TOKEN = Pattern.compile("[^A-Za-z0-9._:/+=@-]");

    private FaultLine() {
    }

    public static String format(ExportJob job, Fault fault, Integer status, String requestId, Duration retryIn,
                                JobState state, String reason) {
        return format(job.id(), job.sourceId(), job.kind(), fault, status, requestId, retryIn, String.valueOf(state),
                reason);
    }

    private static String format(String jobId, String sourceId, String kind, Fault fault, Integer status,
                                 String requestId, Duration retryIn, String state, String reason) {
        return "job.fault job=" + token(jobId) + " source=" + token(sourceId) + " kind=" + token(kind)
                + " fault=" + fault.label() + " status=" + (status == null || status <= 0 ? "-" : status)
                + " requestId=" + token(requestId) + " retryIn=" + duration(retryIn) + " state=" + token(state)
                + " reason=\"" + reason(reason) + "\"";
    }

    /** A value as one key=value token: at most 128 characters of a safe alphabet, "-" when there is none. */
    static String token(String value) {
        if (value == null || value.isBlank()) {
            return "-";
        }
        String clean = NOT_TOKEN.matcher(value.trim()).replaceAll("_");
        return clean.length() > 128 ? clean.substring(0, 128) : clean;
    }

    static String duration(Duration d) {
        if (d == null) {
            return "-";
        }
        long ms = d.toMillis();
        if (ms < 1000) {
            return ms + "ms";
        }
        return ms % 1000 == 0 ? (ms / 1000) + "s" : String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
    }

    /** The reason on one line, quoted safely, without URL secrets or tokens, at most 300 characters. */
    static String reason(String reason) {
        if (reason == null) {
            return "";
        }
        String text = Redaction.text(reason).replaceAll("[\\r\\n\\t]+", " ");
        if (text.length() > MAX_REASON) {
            text = text.substring(0, MAX_REASON) + "…"; // cut before escaping: no dangling backslash
        }
        return text.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
