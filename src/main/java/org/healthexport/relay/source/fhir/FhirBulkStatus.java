package org.healthexport.relay.source.fhir;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;
import org.healthexport.relay.auth.SourceAuth;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.deliver.KeyLayout;
import org.healthexport.relay.http.BoundedBody;
import org.healthexport.relay.http.SourceFiles;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobFile;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobUpdate;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
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
    private final int maxManifestPages;
    private final ObjectMapper json = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public FhirBulkStatus(Sources sources, JobLifecycle jobs, SourceFiles files, SourceAuth auth, long maxStatusBytes) {
        this(sources, jobs, files, auth, maxStatusBytes, DEFAULT_MAX_MANIFEST_PAGES);
    }

    /** {@code maxManifestPages}: a manifest paged beyond this ({@code link next}) is refused as malformed. */
    public FhirBulkStatus(Sources sources, JobLifecycle jobs, SourceFiles files, SourceAuth auth, long maxStatusBytes,
                          int maxManifestPages) {
        this.sources = sources;
        this.jobs = jobs;
        this.files = files;
        this.auth = auth;
        this.maxStatusBytes = maxStatusBytes;
        this.maxManifestPages = maxManifestPages;
    }

    public static final int DEFAULT_MAX_MANIFEST_PAGES = 1000;

    /** {@code relay.http.max-manifest-pages}. */
    public static int maxManifestPages(RelayProperties props) {
        return props.getInt("relay.http.max-manifest-pages", DEFAULT_MAX_MANIFEST_PAGES, 1);
    }

    /**
     * Parses one manifest page, already bounded: by the route's {@code boundedAnswer} step for the status body, by
     * {@link #nextPage} for the pages after it. A body that is not a manifest is a {@link MalformedStatusException}.
     */
    public BulkManifest parse(InputStream body) {
        BulkManifest manifest;
        try {
            manifest = json.readValue(body, BulkManifest.class);
        } catch (IOException e) {
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
        return complete(job, parse(body), expires);
    }

    /**
     * The same from a manifest already read (a kind whose status body wraps it, as Redox's envelope does):
     * follows its next pages, plans the files (keeping the numbers and keys of a job's known files when this is a
     * fresh manifest after expired links), READY.
     */
    public ExportJob complete(ExportJob job, BulkManifest manifest, String expires) throws IOException {
        SourceConfig source = sources.get(job.sourceId());
        Set<String> seenPages = new HashSet<>();
        for (String next = manifest.nextPage(); next != null && seenPages.add(next); next = manifest.nextPage()) {
            if (seenPages.size() >= maxManifestPages) {
                // a server that keeps sending new next links would otherwise be followed for ever
                throw new MalformedStatusException("The manifest goes on past " + maxManifestPages
                        + " pages (relay.http.max-manifest-pages)");
            }
            URI page;
            try {
                page = URI.create(job.statusUrl()).resolve(next);
            } catch (IllegalArgumentException e) {
                // not quoted, as a file's link is not (see plan)
                throw new MalformedStatusException("The manifest's next page link is not a URL");
            }
            manifest = manifest.append(nextPage(source, page));
        }
        String folder = folder(job, source);
        List<JobFile> planned = keepNumbers(jobs.store().files(job.id()), plan(job, folder, manifest));
        return jobs.ready(job, planned, details(manifest, expires).attribute("folder", folder));
    }

    /** A further manifest page, fetched outside the route: bounded here to relay.http.max-status-bytes. */
    private BulkManifest nextPage(SourceConfig source, URI page) throws IOException {
        byte[] bytes;
        try (InputStream in = files.open(source, page, true, auth.tokens(source.id()), "application/json")) {
            bytes = BoundedBody.limit(in, maxStatusBytes, "status body").readAllBytes();
        } catch (BoundedBody.TooLargeException tooLarge) {
            throw new MalformedStatusException(tooLarge.getMessage());
        }
        return parse(new ByteArrayInputStream(bytes));
    }

    /**
     * A fresh manifest (new links after a 403 or 404 on an old one) must land on the files the job already
     * knows, so a delivered file is not fetched again and a new link never goes to another file's key: each
     * entry takes the number and key of the known file with the same URL (ignoring the query, where presigned
     * links carry their signature), else of the known file with the same key (the same type at the same place
     * in the manifest). An entry matching nothing is a new file with a new number and a key of its own.
     */
    static List<JobFile> keepNumbers(List<JobFile> known, List<JobFile> planned) {
        if (known.isEmpty()) {
            return planned;
        }
        Map<String, JobFile> byUrl = new HashMap<>();
        Map<String, JobFile> byKey = new HashMap<>();
        Set<String> keys = new HashSet<>();
        int next = 0;
        for (JobFile f : known) {
            byUrl.putIfAbsent(withoutQuery(f.url()), f);
            byKey.put(f.targetKey(), f);
            keys.add(f.targetKey());
            next = Math.max(next, f.seq());
        }
        Set<Integer> taken = new HashSet<>();
        List<JobFile> matched = new ArrayList<>();
        List<JobFile> unmatched = new ArrayList<>();
        for (JobFile f : planned) {
            JobFile match = byUrl.get(withoutQuery(f.url()));
            if (match != null && taken.add(match.seq())) {
                matched.add(JobFile.planned(match.seq(), match.group(), match.type(), f.url(), match.targetKey()));
            } else {
                unmatched.add(f);
            }
        }
        List<JobFile> result = new ArrayList<>(matched);
        for (JobFile f : unmatched) {
            JobFile match = byKey.get(f.targetKey());
            if (match != null && taken.add(match.seq())) {
                result.add(JobFile.planned(match.seq(), match.group(), match.type(), f.url(), match.targetKey()));
                continue;
            }
            String key = f.targetKey();
            for (int i = 2; keys.contains(key); i++) {
                int dot = f.targetKey().lastIndexOf('.');
                key = f.targetKey().substring(0, dot) + "-new" + i + f.targetKey().substring(dot);
            }
            keys.add(key);
            result.add(JobFile.planned(++next, f.group(), f.type(), f.url(), key));
        }
        result.sort(Comparator.comparingInt(JobFile::seq));
        return result;
    }

    private static String withoutQuery(String url) {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q);
    }

    static JobUpdate details(BulkManifest manifest, String expires) {
        JobUpdate u = JobUpdate.keepState().vendorStatus("complete").progress("complete")
                .attribute("requiresAccessToken", String.valueOf(manifest.tokenRequired()));
        if (manifest.transactionTime() != null) {
            try {
                u.transactionTime(OffsetDateTime.parse(manifest.transactionTime()).toInstant());
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
                URI url;
                try {
                    url = URI.create(job.statusUrl()).resolve(f.url().trim());
                } catch (IllegalArgumentException e) {
                    // not quoted: an unreadable presigned link cannot be redacted reliably
                    throw new MalformedStatusException("Manifest " + group.getKey() + " entry with a url that is not"
                            + " a URL");
                }
                if (!urls.add(url.toString())) {
                    continue;
                }
                String type = f.type() == null || f.type().isBlank()
                        ? (group.getKey().equals("error") ? "OperationOutcome" : "Resource") : f.type();
                // numbered per type as it appears in the key: "a/b" and "a_b" share a name, so not a number
                int n = perType.merge(group.getKey() + "/" + KeyLayout.segment(type), 1, Integer::sum);
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
