package org.healthexport.relay.source.fhir;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;
import org.healthexport.relay.auth.SourceAuth;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.deliver.KeyLayout;
import org.healthexport.relay.http.BoundedBody;
import org.healthexport.relay.http.SourceFiles;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobFile;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobUpdate;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a complete-status manifest (all its pages), and plans each output, error and deleted file under its
 * key: {@code <folder>/<Type>-<n>.ndjson}, {@code <folder>/error/...}, {@code <folder>/deleted/...}.
 */
public class FhirBulkStatus {
    private final Sources sources;
    private final JobLifecycle jobs;
    private final SourceFiles files;
    private final SourceAuth auth;
    private final long maxStatusBytes;
    private final ObjectMapper json = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public FhirBulkStatus(Sources sources, JobLifecycle jobs, SourceFiles files, SourceAuth auth, long maxStatusBytes) {
        this.sources = sources;
        this.jobs = jobs;
        this.files = files;
        this.auth = auth;
        this.maxStatusBytes = maxStatusBytes;
    }

    /** Parses one manifest page; a body that is not a manifest is a {@link MalformedStatusException}. */
    public BulkManifest parse(InputStream body) throws IOException {
        BulkManifest manifest;
        try {
            manifest = json.readValue(BoundedBody.limit(body, maxStatusBytes, "status body"), BulkManifest.class);
        } catch (IOException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof BoundedBody.TooLargeException tooLarge) {
                    throw new MalformedStatusException(tooLarge.getMessage());
                }
            }
            throw new MalformedStatusException("Status body is not a Bulk Data manifest: "
                    + e.getClass().getSimpleName());
        }
        if (manifest == null) {
            throw new MalformedStatusException("Status body is empty");
        }
        return manifest;
    }

    /** Route step on a 200: reads the manifest and every page after it, plans the files, READY. */
    public ExportJob complete(@ExchangeProperty("job") ExportJob job, InputStream body,
                              @Header("Expires") String expires) throws IOException {
        SourceConfig source = sources.get(job.sourceId());
        BulkManifest manifest = parse(body);
        Set<String> seenPages = new HashSet<>();
        for (String next = manifest.nextPage(); next != null && seenPages.add(next); next = manifest.nextPage()) {
            URI page = URI.create(job.statusUrl()).resolve(next);
            try (InputStream in = files.open(source, page, true, auth.tokens(source.id()), "application/json")) {
                manifest = manifest.append(parse(in));
            }
        }
        String folder = folder(job, source);
        return jobs.ready(job, plan(job, folder, manifest), details(manifest, expires).attribute("folder", folder));
    }

    static JobUpdate details(BulkManifest manifest, String expires) {
        JobUpdate u = JobUpdate.keepState().vendorStatus("complete").progress("complete")
                .attribute("requiresAccessToken", String.valueOf(manifest.tokenRequired()));
        if (manifest.transactionTime() != null) {
            try {
                u.transactionTime(java.time.OffsetDateTime.parse(manifest.transactionTime()).toInstant());
            } catch (RuntimeException e) {
                throw new MalformedStatusException("transactionTime '" + manifest.transactionTime()
                        + "' is not a FHIR instant");
            }
        }
        if (manifest.request() != null) {
            u.requestUrl(manifest.request());
        }
        if (expires != null) {
            try {
                Instant at = ZonedDateTime.parse(expires, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                u.expiresAt(at);
            } catch (RuntimeException ignored) {
                // Expires is advisory (SHOULD); an unreadable one does not stop the delivery
            }
        }
        return u;
    }

    /** One planned file per manifest entry, numbered per type; duplicate URLs are delivered once. */
    List<JobFile> plan(ExportJob job, String folder, BulkManifest manifest) {
        List<JobFile> planned = new ArrayList<>();
        Map<String, Integer> perType = new HashMap<>();
        Set<String> urls = new HashSet<>();
        int seq = 0;
        for (var group : List.of(Map.entry("output", manifest.output()), Map.entry("error", manifest.error()),
                Map.entry("deleted", manifest.deleted()))) {
            for (BulkManifest.OutputFile f : group.getValue()) {
                if (f.url() == null || f.url().isBlank()) {
                    throw new MalformedStatusException("Manifest " + group.getKey() + " entry without url");
                }
                URI url = URI.create(job.statusUrl()).resolve(f.url().trim());
                if (!urls.add(url.toString())) {
                    continue;
                }
                String type = f.type() == null || f.type().isBlank()
                        ? (group.getKey().equals("error") ? "OperationOutcome" : "Resource") : f.type();
                int n = perType.merge(group.getKey() + "/" + type, 1, Integer::sum);
                planned.add(JobFile.planned(++seq, group.getKey(), type, url.toString(),
                        KeyLayout.fileKey(folder, group.getKey(), type, n, "ndjson")));
            }
        }
        return planned;
    }

    static String folder(ExportJob job, SourceConfig source) {
        return KeyLayout.folderOf(job, source);
    }
}
