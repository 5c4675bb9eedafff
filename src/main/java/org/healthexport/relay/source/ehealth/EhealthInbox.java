package org.healthexport.relay.source.ehealth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Adopts the job ids the MIS drops in a source's inbox folder ({@code inbox-dir}): one id per line (blank
 * lines and {@code #} comments skipped), or the JSON answer eHealth gave to the package submission (its
 * {@code job} link names the id). A file is taken whole or not at all: one bad line refuses the file (the
 * route moves it to {@code .error/}); adoption is idempotent, so a file seen twice adopts nothing new.
 */
public class EhealthInbox {
    private static final Logger LOG = LoggerFactory.getLogger(EhealthInbox.class);
    static final int MAX_FILE_CHARS = 256 * 1024;
    static final int MAX_IDS = 10_000;
    private final Sources sources;
    private final JobLifecycle jobs;
    private final ObjectMapper json = new ObjectMapper();

    public EhealthInbox(Sources sources, JobLifecycle jobs) {
        this.sources = sources;
        this.jobs = jobs;
    }

    /**
     * Route step: adopts every id of one file; returns a one-line summary for the log. Throws
     * {@link IllegalArgumentException} (the file is refused) on a bad id or an unreadable file.
     */
    public String adopt(String sourceId, String content, String fileName) {
        SourceConfig source = sources.get(sourceId);
        List<String> ids = ids(content);
        int created = 0;
        for (String id : ids) {
            JobStore.Adoption a = jobs.submit(EhealthAdopter.job(source, id, "inbox", Map.of("inboxFile",
                    fileName == null ? "?" : fileName.length() > 200 ? fileName.substring(0, 200) : fileName)));
            if (a.created()) {
                created++;
            }
        }
        String summary = ids.size() + " job id(s), " + created + " new, " + (ids.size() - created) + " already known";
        LOG.info("Inbox file {} of source {}: {}", fileName, sourceId, summary);
        return summary;
    }

    /** The checked, distinct job ids of one file, in order. */
    List<String> ids(String content) {
        if (content == null || content.isBlank()) {
            throw new IllegalArgumentException("the file is empty: expected one eHealth job id per line");
        }
        if (content.length() > MAX_FILE_CHARS) {
            throw new IllegalArgumentException("the file is larger than " + MAX_FILE_CHARS + " characters");
        }
        String text = content.startsWith("\uFEFF") ? content.substring(1) : content;
        if (text.strip().startsWith("{")) {
            return List.of(fromJson(text));
        }
        Set<String> ids = new LinkedHashSet<>();
        List<String> bad = new ArrayList<>();
        String[] lines = text.split("\\R");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                ids.add(EhealthJobId.parse(line));
            } catch (IllegalArgumentException e) {
                bad.add("line " + (i + 1) + ": " + e.getMessage());
            }
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", bad.subList(0, Math.min(5, bad.size())))
                    + (bad.size() > 5 ? "; and " + (bad.size() - 5) + " more bad line(s)" : ""));
        }
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("no job id in the file (only blank lines or comments)");
        }
        if (ids.size() > MAX_IDS) {
            throw new IllegalArgumentException("more than " + MAX_IDS + " job ids in one file");
        }
        return List.copyOf(ids);
    }

    /** {@code {"jobId": "…"}}, or eHealth's 202 answer whose {@code data.links} has the {@code job} link. */
    private String fromJson(String text) {
        JsonNode root;
        try {
            root = json.readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException("the file starts with '{' but is not JSON");
        }
        if (root.hasNonNull("jobId")) {
            return EhealthJobId.parse(root.get("jobId").asText());
        }
        for (JsonNode link : root.path("data").path("links")) {
            if ("job".equalsIgnoreCase(link.path("entity").asText()) && link.hasNonNull("href")) {
                return EhealthJobId.parse(link.get("href").asText());
            }
        }
        throw new IllegalArgumentException("the JSON file has neither \"jobId\" nor a data.links entry of entity 'job'");
    }
}
