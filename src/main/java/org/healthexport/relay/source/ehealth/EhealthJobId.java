package org.healthexport.relay.source.ehealth;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An eHealth async job id, as {@code GET /api/jobs/{id}} takes it. The medical_events service stores jobs under
 * MongoDB ObjectIds (24 hex digits); newer services use UUIDs; the public docs show an opaque token
 * ({@code NBXk9EyErUZv1RhXgyvgg}). All three are accepted: 1 to 64 letters, digits, '-' or '_' (safe in a URL
 * path and a folder name). The hex forms are case-insensitive and kept lower-case, so the same job given twice
 * in different case is one job; opaque tokens are kept as given. The job's link from the 202 answer
 * ({@code /jobs/{id}}, {@code /Jobs/{id}}, {@code /api/jobs/{id}}, or a full URL ending so) is accepted too.
 */
public final class EhealthJobId {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final Pattern HEX_FORM = Pattern.compile(
            "[0-9a-fA-F]{24}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}");
    private static final Pattern JOB_LINK = Pattern.compile("(?i)^(?:\\{host}|[a-z][a-z0-9+.-]*://[^/]+)?(?:/[^?#]*)?/jobs/([^/?#]+)/?$");

    private EhealthJobId() {
    }

    /** The canonical id, or an {@link IllegalArgumentException} saying what is wrong (never echoing a huge value). */
    public static String parse(String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("An eHealth job id is required");
        }
        String v = value.strip();
        if (v.startsWith("\uFEFF")) {
            v = v.substring(1).strip();
        }
        Matcher link = JOB_LINK.matcher(v);
        if (link.matches()) {
            v = link.group(1);
        }
        if (!SAFE.matcher(v).matches()) {
            String shown = v.length() > 80 ? v.substring(0, 80) + "…" : v;
            throw new IllegalArgumentException("'" + shown.replaceAll("\\p{Cntrl}", "?") + "' is not an eHealth job id"
                    + " (expected an ObjectId, a UUID or an id of letters, digits, '-' and '_', at most 64)");
        }
        return HEX_FORM.matcher(v).matches() ? v.toLowerCase(Locale.ROOT) : v;
    }
}
