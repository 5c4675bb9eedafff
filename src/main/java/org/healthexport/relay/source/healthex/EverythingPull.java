package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.camel.ExchangeProperty;
import org.healthexport.relay.auth.AccessTokens;
import org.healthexport.relay.auth.SourceAuth;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.deliver.DeliveryTarget;
import org.healthexport.relay.deliver.KeyLayout;
import org.healthexport.relay.deliver.ReceiptWriter;
import org.healthexport.relay.http.FileUnavailableException;
import org.healthexport.relay.http.UrlPolicy;
import org.healthexport.relay.http.VendorRequestIds;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobFile;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.JobUpdate;
import org.healthexport.relay.job.LeaseLostException;
import org.healthexport.relay.job.TargetFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The delivery of a HealthEx job, a transformation rather than a copy: every page of the patient's
 * {@code GET [fhir-base]/Person/{id}/$everything} (through the Bundle's {@code next} link, else {@code _offset})
 * is streamed into one NDJSON spool per resource type; then each NDJSON file and {@code status.json} (the final
 * status, the per-location report, the {@code $updateData} answer) are written to the target and recorded as
 * delivered files with their size and SHA-256, so the standard delivery step only writes {@code receipt.json}.
 * Nothing is held in memory beyond one resource; the spools live in a temporary folder, removed afterwards.
 */
public class EverythingPull {
    private static final Logger LOG = LoggerFactory.getLogger(EverythingPull.class);
    static final String STATUS_FILE = "status.json";
    static final int STATUS_SEQ = 1;
    private static final Duration LEASE_RENEWAL = Duration.ofSeconds(10);

    private final Sources configs;
    private final Map<String, HealthexSource> sources;
    private final JobStore store;
    private final JobLifecycle jobs;
    private final SourceAuth auth;
    private final DeliveryTarget target;
    private final HttpClient http;
    private final Duration timeout;
    private final VendorRequestIds requestIds;
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public EverythingPull(Sources configs, Map<String, HealthexSource> sources, JobStore store, JobLifecycle jobs,
                          SourceAuth auth, DeliveryTarget target, HttpClient http, Duration timeout,
                          VendorRequestIds requestIds) {
        this.configs = configs;
        this.sources = sources;
        this.store = store;
        this.jobs = jobs;
        this.auth = auth;
        this.target = target;
        this.http = http;
        this.timeout = timeout;
        this.requestIds = requestIds;
    }

    /**
     * The outcome of a pull: {@code complete} when every file landed; else the HTTP answer that stopped it
     * ({@code isTransient}: 408, 429, 5xx), its request id and a reason for the job.
     */
    public record PullResult(boolean complete, int httpCode, boolean isTransient, String reason, String retryAfter,
                             String requestId, String folder, int pages, Map<String, Long> resources,
                             long duplicates) {

        static PullResult refused(int code, String reason, String retryAfter, String requestId) {
            return new PullResult(false, code, code == 408 || code == 429 || code >= 500, reason, retryAfter,
                    requestId, null, 0, Map.of(), 0);
        }
    }

    /** Route step on a refused pull: the job carries the request id of the answer that refused it (its fault line). */
    public ExportJob answeredBy(@ExchangeProperty("job") ExportJob job, PullResult result) {
        return result.requestId() == null ? job : job.withRequestId(result.requestId());
    }

    /** Route step: pulls, writes and records every file of the job (status.json last). */
    public PullResult pull(@ExchangeProperty("job") ExportJob job,
                           @ExchangeProperty("retrieval") RetrievalStatus retrieval,
                           @ExchangeProperty("report") LocationReport report) throws IOException {
        HealthexSource source = sources.get(job.sourceId());
        SourceConfig config = configs.get(job.sourceId());
        String patientId = job.attribute(HealthexJobs.PATIENT_ID);
        ExportJob current = fixFolder(job, config);
        String folder = current.attribute("folder");
        URI first = source.everythingUrl(patientId);
        Path dir = Files.createTempDirectory(spoolDir(config), "healthex-" + KeyLayout.segment(job.id()) + "-");
        try (BundlePages pages = new BundlePages(dir)) {
            PullResult refused = readAllPages(current, source, first, pages);
            if (refused != null) {
                return refused;
            }
            Map<String, BundlePages.Spool> spools = pages.finish();
            List<JobFile> planned = plan(current, folder, first, spools, pages);
            Map<Integer, JobFile> bySeq = new HashMap<>();
            store.planFiles(current.id(), planned).forEach(f -> bySeq.put(f.seq(), f));
            for (JobFile f : planned) {
                if (f.seq() == STATUS_SEQ) {
                    continue;
                }
                BundlePages.Spool spool = spools.get(f.type());
                try (InputStream in = Files.newInputStream(spool.file())) {
                    put(current, bySeq.get(f.seq()), in, Files.size(spool.file()), "application/fhir+ndjson");
                }
            }
            byte[] status = statusJson(current, source, retrieval, report, first, pages);
            put(current, bySeq.get(STATUS_SEQ), new ByteArrayInputStream(status), status.length,
                    "application/json");
            LOG.info("Job {}: {} resource(s) of patient {} in {} page(s) written to {} as {} NDJSON file(s)",
                    job.id(), pages.counts().values().stream().mapToLong(Long::longValue).sum(), patientId,
                    pages.pages(), folder, spools.size());
            return new PullResult(true, 200, false, null, null, null, folder, pages.pages(), pages.counts(),
                    pages.duplicates());
        } finally {
            deleteQuietly(dir);
        }
    }

    /** Route step after a complete pull: READY, so the standard delivery writes receipt.json and ends the job. */
    public ExportJob ready(@ExchangeProperty("job") ExportJob job, PullResult result) {
        ExportJob current = store.get(job.id());
        String progress = current.progress() != null && current.progress().startsWith(RetrievalStatus.COMPLETE)
                ? current.progress() : "records pulled";
        return jobs.ready(current, List.of(), JobUpdate.keepState().progress(progress)
                .attribute("folder", result.folder()).attribute("pages", String.valueOf(result.pages())));
    }

    private PullResult readAllPages(ExportJob job, HealthexSource source, URI first, BundlePages pages)
            throws IOException {
        AccessTokens tokens = auth.tokens(job.sourceId());
        String fhirOrigin = SourceConfig.origin(source.fhirBase());
        Set<String> visited = new HashSet<>();
        URI url = first;
        long received = 0;
        long lastRenewal = System.nanoTime();
        while (url != null) {
            if (pages.pages() >= source.maxPages()) {
                return PullResult.refused(0, "$everything of patient " + job.attribute(HealthexJobs.PATIENT_ID)
                        + " has more than max-pages (" + source.maxPages() + ") pages", null, null);
            }
            if (!fhirOrigin.equals(SourceConfig.origin(url))) {
                // the researcher token goes to the FHIR server only
                throw new UrlPolicy.RefusedUrlException("$everything next link leaves the FHIR server "
                        + fhirOrigin + ": " + SourceConfig.origin(url));
            }
            visited.add(url.toString());
            if (System.nanoTime() - lastRenewal > LEASE_RENEWAL.toNanos()) {
                jobs.keepLease(job);
                lastRenewal = System.nanoTime();
            }
            HttpResponse<InputStream> response = get(url, tokens);
            if (response.statusCode() == 401) {
                drain(response);
                tokens.invalidate();
                response = get(url, tokens);
            }
            int code = response.statusCode();
            if (code != 200) {
                String body = text(response);
                String requestId = requestIds.from(response.headers());
                if (code == 410) {
                    // a FHIR server's paging (search snapshot) that expired: the pull starts again from the first
                    // page after a status poll, a bounded number of times (JobLifecycle's fresh manifests), then
                    // the job ends EXPIRED
                    throw new FileUnavailableException("$everything page of patient "
                            + job.attribute(HealthexJobs.PATIENT_ID) + " is gone (HTTP 410"
                            + HealthexErrors.describe(body) + ")", code, requestId);
                }
                return PullResult.refused(code, refusal(job, code, body),
                        response.headers().firstValue("Retry-After").orElse(null), requestId);
            }
            BundlePages.Page page;
            try (InputStream in = response.body()) {
                page = pages.read(in);
            }
            received += page.entries();
            URI next = null;
            if (page.nextUrl() != null) {
                try {
                    next = url.resolve(page.nextUrl());
                } catch (IllegalArgumentException e) {
                    // not quoted: the JDK's message holds the whole link
                    throw new UrlPolicy.RefusedUrlException("$everything next link is not a URL");
                }
            } else if (page.entries() > 0 && page.total() != null && received < page.total()) {
                next = withOffset(first, received);
            }
            url = next != null && !visited.contains(next.toString()) && page.entries() > 0 ? next : null;
        }
        return null;
    }

    private HttpResponse<InputStream> get(URI url, AccessTokens tokens) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(timeout).GET()
                .header("Accept", "application/json");
        tokens.current().ifPresent(t -> request.header("Authorization", "Bearer " + t));
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted while reading $everything", e);
        }
    }

    private String refusal(ExportJob job, int code, String body) {
        String patient = job.attribute(HealthexJobs.PATIENT_ID);
        String words = HealthexErrors.describe(body);
        return switch (code) {
            case 401 -> "HealthEx FHIR server refused the researcher token twice (HTTP 401" + words + ")";
            case 403 -> "HealthEx FHIR server does not allow this API client to read patient " + patient
                    + " (HTTP 403" + words + ")";
            case 404 -> "HealthEx FHIR server has no Person " + patient + " visible to this organization (HTTP 404"
                    + words + "); only patients who consented to the organization are visible";
            default -> "$everything of patient " + patient + " answered HTTP " + code + words;
        };
    }

    /** {@code first} with {@code _offset} set: paging without next links (the FHIR server's {@code total}). */
    static URI withOffset(URI first, long offset) {
        String query = first.getRawQuery() == null ? "" : first.getRawQuery();
        List<String> kept = new ArrayList<>();
        for (String pair : query.split("&")) {
            String name = URLDecoder.decode(pair.contains("=") ? pair.substring(0, pair.indexOf('=')) : pair,
                    StandardCharsets.UTF_8);
            if (!pair.isEmpty() && !name.equals("_offset")) {
                kept.add(pair);
            }
        }
        kept.add("_offset=" + offset);
        String base = first.toString().contains("?") ? first.toString().substring(0, first.toString().indexOf('?'))
                : first.toString();
        return URI.create(base + "?" + String.join("&", kept));
    }

    /**
     * Fixes the job's folder once, before anything is written: the source's path template; if an earlier job
     * already delivered into it (the same retrieval pulled again), the folder gets this job's id appended, so an
     * earlier delivery is never overwritten.
     */
    ExportJob fixFolder(ExportJob job, SourceConfig config) throws IOException {
        if (job.attribute("folder") != null) {
            return job;
        }
        HealthexSource source = sources.get(job.sourceId());
        Map<String, String> values = new HashMap<>(KeyLayout.commonValues(job.sourceId(), job.id(), job.createdAt()));
        values.put("orgId", job.attribute(HealthexJobs.ORG_ID));
        values.put("projectId", job.attribute(HealthexJobs.PROJECT_ID));
        values.put("healthexPatientId", job.attribute(HealthexJobs.PATIENT_ID));
        values.put("externalId", job.attribute(HealthexJobs.EXTERNAL_ID));
        String retrieval = job.attribute(HealthexJobs.RETRIEVAL_ID);
        values.put("retrievalId", retrieval != null ? retrieval : "job-" + job.id());
        String folder = KeyLayout.jobFolder(source.path(), values);
        if (target.exists(folder + "/" + ReceiptWriter.NAME)
                || target.exists(folder + "/" + STATUS_FILE)) {
            String taken = folder;
            String id = KeyLayout.segment(job.id()); // may be shorter than the id (leading dots go)
            folder = folder + "-" + id.substring(0, Math.min(8, id.length()));
            LOG.info("Job {}: {} already holds an earlier delivery; delivering into {}", job.id(), taken, folder);
        }
        return store.update(job, jobs.owner(), JobUpdate.keepState().attribute("folder", folder), false);
    }

    /**
     * One file per resource type ({@code <folder>/<Type>.ndjson}) and {@code <folder>/status.json}. A type an
     * earlier attempt of this job planned keeps its number; one this pull no longer has is written empty.
     */
    private List<JobFile> plan(ExportJob job, String folder, URI first, Map<String, BundlePages.Spool> spools,
                               BundlePages pages) throws IOException {
        Map<String, Integer> seqByType = new LinkedHashMap<>();
        int max = STATUS_SEQ;
        for (JobFile f : store.files(job.id())) {
            if (f.seq() != STATUS_SEQ) {
                seqByType.put(f.type(), f.seq());
            }
            max = Math.max(max, f.seq());
        }
        for (String earlier : seqByType.keySet()) {
            if (!spools.containsKey(earlier)) {
                pages.empty(earlier);
            }
        }
        List<JobFile> planned = new ArrayList<>();
        planned.add(JobFile.planned(STATUS_SEQ, "status", "status", sources.get(job.sourceId()).statusUrl()
                .toString(), folder + "/" + STATUS_FILE));
        for (String type : spools.keySet()) {
            Integer seq = seqByType.get(type);
            if (seq == null) {
                seq = ++max;
            }
            planned.add(JobFile.planned(seq, "output", type, first.toString(), folder + "/" + type + ".ndjson"));
        }
        return planned;
    }

    private void put(ExportJob job, JobFile file, InputStream content, long length, String contentType)
            throws IOException {
        DeliveryTarget.Stored stored;
        try {
            // hashed once: by the target when it hashes as it stores (S3's streamed PUT), else as it reads
            stored = target.putMeasured(file.targetKey(), content, length, contentType);
        } catch (LeaseLostException | TargetFailedException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // the spool is local: whatever failed here is the target's (waited for, not a fault of HealthEx)
            throw new TargetFailedException(target.kind(), e);
        }
        store.fileDelivered(file.id(), stored.bytes(), stored.sha256());
        jobs.keepLease(job);
    }

    private byte[] statusJson(ExportJob job, HealthexSource source, RetrievalStatus retrieval,
                              LocationReport report, URI first, BundlePages pages) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("source", job.sourceId());
        m.put("kind", job.kind());
        m.put("jobId", job.id());
        m.put("orgId", job.attribute(HealthexJobs.ORG_ID));
        m.put("projectId", job.attribute(HealthexJobs.PROJECT_ID));
        m.put("healthexPatientId", job.attribute(HealthexJobs.PATIENT_ID));
        m.put("externalId", job.attribute(HealthexJobs.EXTERNAL_ID));
        m.put("retrievalId", job.attribute(HealthexJobs.RETRIEVAL_ID));
        m.put("previousRetrievalId", job.attribute(RetrievalWatch.PREVIOUS_RETRIEVAL));
        Map<String, Object> update = new LinkedHashMap<>();
        update.put("message", job.attribute(HealthexJobs.UPDATE_MESSAGE));
        update.put("requestedAt", job.attribute(HealthexJobs.UPDATE_AT));
        update.put("skippedFacilitiesCount", number(job.attribute("skippedFacilitiesCount")));
        Map<String, Object> counts = new LinkedHashMap<>();
        job.attributes().forEach((k, v) -> {
            if (k.startsWith("counts.")) {
                counts.put(k.substring("counts.".length()), number(v));
            }
        });
        update.put("counts", counts);
        update.put("adoptedRetrievalId", job.attribute(HealthexJobs.REQUESTED_RETRIEVAL));
        m.put("updateData", update);
        m.put("statusWatched", retrieval != null);
        if (retrieval == null) {
            m.put("note", "No patient login is configured for this patient: the data-retrieval status was not "
                    + "watched, and the records were pulled " + source.pullAfter() + " after $updateData");
        }
        m.put("dataRetrievalStatus", retrieval == null ? null : retrieval.body());
        m.put("report", report == null ? null : report.toMap());
        Map<String, Object> records = new LinkedHashMap<>();
        records.put("url", first.toString());
        records.put("pages", pages.pages());
        records.put("entries", pages.entries());
        records.put("resources", pages.counts());
        records.put("duplicatesSkipped", pages.duplicates());
        records.put("entriesWithoutResource", pages.withoutResource());
        m.put("records", records);
        m.put("pulledAt", Instant.now().toString());
        return json.writeValueAsBytes(m);
    }

    private static Object number(String v) {
        if (v == null) {
            return null;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return v;
        }
    }

    private static Path spoolDir(SourceConfig config) throws IOException {
        Path dir = Path.of(config.property("spool-dir", System.getProperty("java.io.tmpdir")));
        return Files.createDirectories(dir);
    }

    private static String text(HttpResponse<InputStream> response) {
        try (InputStream in = response.body()) {
            return new String(in.readNBytes(8 * 1024), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void drain(HttpResponse<InputStream> response) {
        try (InputStream in = response.body()) {
            in.skip(64 * 1024);
        } catch (IOException ignored) {
            // the connection is dropped instead of reused
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.list(dir)) {
            files.forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // a temp file left behind is removed with the temp folder
                }
            });
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // nothing more to do
        }
    }
}
