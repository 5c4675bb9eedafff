package org.healthexport.relay.deliver;

import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.job.ExportJob;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a job's files land under the target: a folder from the source's path template
 * ({@code relay.sources.<id>.path}, default {@code {source}/{jobId}}), then {@code error/} and {@code deleted/}
 * for those manifest lists. Every value put into a key is sanitised, so nothing a vendor sends can climb out
 * of the job folder or the target prefix.
 */
public final class KeyLayout {
    public static final String DEFAULT_TEMPLATE = "{source}/{jobId}";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Za-z]+)}");
    private static final int MAX_SEGMENT = 120;

    private KeyLayout() {
    }

    /**
     * Checks a template at startup: only known placeholders, no absolute path, no {@code ..}, no empty segment, only
     * characters every target writes as they are.
     */
    public static void validate(String sourceId, String template, Set<String> known) {
        if (template.startsWith("/") || template.contains("\\")) {
            throw new ConfigurationException("Source " + sourceId + ": path '" + template + "' must be relative");
        }
        // The template's own text is written into every key as it is: the characters a segment keeps, '=' for
        // name=value partitions, '/' between folders. Anything else (NUL, control characters, spaces, non-ASCII)
        // could not be written to a folder target, or would mean something else to another.
        String literal = PLACEHOLDER.matcher(template).replaceAll("x");
        if (!literal.matches("[A-Za-z0-9._=/-]*")) {
            throw new ConfigurationException("Source " + sourceId + ": path '" + template + "' may only contain"
                    + " letters, digits, '.', '_', '-', '=', '/' and placeholders");
        }
        for (String segment : template.split("/", -1)) {
            if (segment.isEmpty() || segment.equals("..") || segment.equals(".")) {
                throw new ConfigurationException("Source " + sourceId + ": path '" + template
                        + "' has an empty, '.' or '..' segment and could escape the target prefix");
            }
        }
        Matcher m = PLACEHOLDER.matcher(template);
        while (m.find()) {
            if (!known.contains(m.group(1))) {
                throw new ConfigurationException("Source " + sourceId + ": path placeholder {" + m.group(1)
                        + "} is not one of " + known);
            }
        }
    }

    /** The job folder, each placeholder replaced by its sanitised value. */
    public static String jobFolder(String template, Map<String, String> values) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = values.get(m.group(1));
            m.appendReplacement(out, Matcher.quoteReplacement(segment(value == null ? "unknown" : value)));
        }
        m.appendTail(out);
        return out.toString();
    }

    /**
     * The folder a job delivers into: the one fixed when its files were planned (attribute {@code folder}),
     * else the source's template filled with the values every kind has.
     */
    public static String folderOf(ExportJob job, SourceConfig source) {
        String planned = job.attribute("folder");
        return planned != null ? planned : jobFolder(source.property("path", DEFAULT_TEMPLATE),
                commonValues(source.id(), job.id(), job.createdAt()));
    }

    /** Values every kind offers to its path template. */
    public static Map<String, String> commonValues(String sourceId, String jobId, Instant created) {
        Map<String, String> values = new HashMap<>();
        values.put("source", sourceId);
        values.put("jobId", jobId);
        values.put("date", DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneOffset.UTC).format(created));
        return values;
    }

    /** {@code <folder>/[<group>/]<type>-<n>.<ext>}: groups other than output get their own sub-folder. */
    public static String fileKey(String folder, String group, String type, int n, String extension) {
        String sub = group == null || group.equals("output") ? "" : segment(group) + "/";
        return folder + "/" + sub + segment(type) + "-" + n + "." + extension;
    }

    /**
     * One safe path segment: letters, digits, '.', '_' and '-' kept; anything else (slashes, backslashes, NUL,
     * control characters, spaces) becomes '_'; leading dots removed so '..' and hidden names cannot appear;
     * cut to a bounded length.
     */
    public static String segment(String value) {
        StringBuilder sb = new StringBuilder(Math.min(value.length(), MAX_SEGMENT));
        for (int i = 0; i < value.length() && sb.length() < MAX_SEGMENT; i++) {
            char c = value.charAt(i);
            boolean safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '-';
            sb.append(safe ? c : '_');
        }
        String s = sb.toString().replaceFirst("^\\.+", "");
        return s.isEmpty() ? "_" : s;
    }
}
