package org.healthexport.relay.source.ehealth;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.deliver.DeliveryTarget;
import org.healthexport.relay.deliver.KeyLayout;
import org.healthexport.relay.http.UrlPolicy;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.Hashes;
import org.healthexport.relay.job.JobFile;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.JobUpdate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The eHealth job status rules, as beans the status route calls: reads the envelope of
 * {@code GET /api/jobs/{id}} ({@link #read}) and turns each outcome into the job's next state: pending until
 * the eta, processed with links (one {@code <entity>/<id>.json} per created entity), processed with
 * {@code response_data} ({@code response.json}, written byte for byte as eHealth sent the value), failed with
 * {@code status_code} and the structured error, unknown job, refused credentials.
 */
public class EhealthStatus {
    private static final Logger LOG = LoggerFactory.getLogger(EhealthStatus.class);
    static final String RESPONSE_FILE = "response.json";
    private static final int MAX_SNIPPET = 200;

    private final Sources sources;
    private final JobLifecycle jobs;
    private final JobStore store;
    private final DeliveryTarget target;
    private final ObjectMapper json = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public EhealthStatus(Sources sources, JobLifecycle jobs, DeliveryTarget target) {
        this.sources = sources;
        this.jobs = jobs;
        this.store = jobs.store();
        this.target = target;
    }

    // ---- reading the answer ----------------------------------------------------------------------------

    /**
     * Route step after the GET: the answer as the route's choice reads it. The route's {@code boundedAnswer} step
     * has already read the body into memory, refused beyond relay.http.max-status-bytes.
     */
    public EhealthJobStatus read(@Header(Exchange.HTTP_RESPONSE_CODE) Integer code, @Body byte[] body) {
        return parse(code == null ? 0 : code, body == null ? new byte[0] : body);
    }

    /**
     * Parses one answer. A 200, 202 or 303 must carry the job envelope (else {@link EhealthResponseException}:
     * the poll is retried with backoff); other codes are read leniently for their request id and error.
     */
    public EhealthJobStatus parse(int code, byte[] bytes) {
        boolean jobAnswer = code == 200 || code == 202 || code == 303;
        JobEnvelope envelope = null;
        String problem = null;
        if (bytes.length == 0) {
            problem = "empty body";
        } else {
            try {
                envelope = json.readValue(bytes, JobEnvelope.class);
                if (envelope == null) {
                    problem = "body is JSON null";
                }
            } catch (IOException e) {
                problem = "not a JSON job envelope (" + e.getClass().getSimpleName() + ")";
            }
        }
        if (jobAnswer) {
            if (problem == null && envelope.data() == null) {
                problem = "no data object";
            }
            if (problem != null) {
                throw new EhealthResponseException("eHealth answered HTTP " + code + " with an unreadable job status: "
                        + problem + (bytes.length == 0 ? "" : "; body starts " + snippet(bytes)));
            }
            JobEnvelope.Data data = envelope.data();
            byte[] responseData = data.hasResponseData() ? rawResponseData(bytes) : null;
            return new EhealthJobStatus(code, data.status(), envelope.requestId(), data.eta(), eta(data.eta()),
                    data.links(), data.statusCode(), EhealthError.from(data.anyError()), responseData, null);
        }
        if (envelope == null) {
            return new EhealthJobStatus(code, null, null, null, null, List.of(), null, EhealthError.NONE, null,
                    bytes.length == 0 ? null : snippet(bytes));
        }
        EhealthError error = EhealthError.from(envelope.error());
        if (error.isEmpty() && envelope.data() != null) {
            error = EhealthError.from(envelope.data().anyError());
        }
        return new EhealthJobStatus(code, envelope.data() == null ? null : envelope.data().status(),
                envelope.requestId(), null, null, List.of(), null, error, null,
                error.isEmpty() ? snippet(bytes) : null);
    }

    /** The eta as an instant: ISO 8601 with an offset, or without one (the 2019 service's form) read as UTC. */
    static Instant eta(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return OffsetDateTime.parse(text.strip()).toInstant();
        } catch (DateTimeParseException withoutOffset) {
            try {
                return LocalDateTime.parse(text.strip()).toInstant(ZoneOffset.UTC);
            } catch (DateTimeParseException unreadable) {
                return null; // only a hint: an unreadable eta means the usual backoff
            }
        }
    }

    /**
     * The bytes of {@code data.response_data} exactly as they are in the body (no re-serialisation): the value
     * delivered as {@code response.json} is what eHealth sent.
     */
    byte[] rawResponseData(byte[] body) {
        try (JsonParser p = json.getFactory().createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (!"data".equals(field) || value != JsonToken.START_OBJECT) {
                    p.skipChildren();
                    continue;
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String inner = p.currentName();
                    JsonToken v = p.nextToken();
                    if (!"response_data".equals(inner)) {
                        p.skipChildren();
                        continue;
                    }
                    int start = (int) p.currentTokenLocation().getByteOffset();
                    if (v.isStructStart()) {
                        p.skipChildren();
                    } else {
                        p.getText(); // reads the whole scalar
                    }
                    int end = (int) p.currentLocation().getByteOffset();
                    if (v.isScalarValue() && !v.equals(JsonToken.VALUE_STRING)) {
                        end = scalarEnd(body, start);
                    }
                    byte[] raw = new byte[end - start];
                    System.arraycopy(body, start, raw, 0, raw.length);
                    return raw;
                }
                return null;
            }
            return null;
        } catch (IOException e) {
            throw new EhealthResponseException("eHealth response_data is not readable JSON: "
                    + e.getClass().getSimpleName());
        }
    }

    /** Where a bare number or literal ends: at the first delimiter. */
    private static int scalarEnd(byte[] body, int start) {
        int i = start;
        while (i < body.length && ",}] \t\r\n".indexOf(body[i]) < 0) {
            i++;
        }
        return i;
    }

    // ---- outcomes ------------------------------------------------------------------------------------

    /** 200 {@code pending}: ask again at the eta (clamped to poll.min-wait..poll.max-wait), else with backoff. */
    public ExportJob pending(@ExchangeProperty("job") ExportJob job, EhealthJobStatus status) {
        Instant now = store.now();
        String wait = null;
        if (status.eta() != null && status.eta().isAfter(now)) {
            // whole seconds, rounded up; not toMillis(), which overflows for an eta centuries away
            Duration until = Duration.between(now, status.eta());
            wait = String.valueOf(until.getSeconds() + (until.getNano() > 0 ? 1 : 0));
        }
        String progress = "pending" + (status.etaText() == null ? "" : ", eta " + status.etaText());
        return jobs.stillRunning(withRequestId(job, status.requestId()), wait, progress, "pending");
    }

    /**
     * Processed with {@code data.links}: one file per created entity, {@code <folder>/<entity>/<id>.json}, each
     * href resolved against the base URL (relative, {@code {host}}-prefixed or absolute) and refused when it
     * leaves the source's hosts. Returns the READY job, or the FAILED one when a link was refused.
     */
    public ExportJob linkedEntities(@ExchangeProperty("job") ExportJob job, EhealthJobStatus status) {
        SourceConfig source = sources.get(job.sourceId());
        String folder = folder(job, source);
        List<JobFile> files;
        try {
            files = plan(job, source, folder, status.links());
        } catch (UrlPolicy.RefusedUrlException e) {
            return jobs.refusedUrl(job, "eHealth job " + job.vendorJobId() + " processed, but "
                    + e.getMessage(), processedDetails(status)
                    .attribute("suggestedAction", "The job's entity links point outside the eHealth API: if that"
                            + " host is eHealth's, add it to relay.sources." + source.id() + ".allowed-hosts;"
                            + " the entities were not fetched (the token is never sent to another host)"));
        }
        LOG.info("Job {} (eHealth job {}, request_id {}): processed, {} entit{} to deliver", job.id(),
                job.vendorJobId(), status.requestId(), files.size(), files.size() == 1 ? "y" : "ies");
        return jobs.ready(job, files, processedDetails(status).attribute("folder", folder)
                .attribute("requiresAccessToken", "true"));
    }

    /**
     * Processed with {@code response_data}: the value, byte for byte as eHealth sent it, is written to
     * {@code <folder>/response.json} here (it is in this answer, not behind a URL) and recorded as delivered,
     * before the job is READY, so delivery only adds the receipt.
     */
    public ExportJob responseData(@ExchangeProperty("job") ExportJob job, EhealthJobStatus status) throws IOException {
        SourceConfig source = sources.get(job.sourceId());
        String folder = folder(job, source);
        String key = folder + "/" + RESPONSE_FILE;
        List<JobFile> plan = List.of(JobFile.planned(1, "response", "response_data", job.statusUrl(), key));
        JobFile file = store.planFiles(job.id(), plan).stream().filter(f -> f.seq() == 1).findFirst().orElseThrow();
        if (!file.isDelivered()) {
            byte[] bytes = status.responseData();
            target.put(key, new ByteArrayInputStream(bytes), bytes.length, "application/json");
            store.fileDelivered(file.id(), bytes.length, HexFormat.of().formatHex(Hashes.sha256().digest(bytes)));
            LOG.info("Job {} (eHealth job {}, request_id {}): processed with response_data, {} bytes written to {}",
                    job.id(), job.vendorJobId(), status.requestId(), bytes.length, target.locate(key));
        }
        return jobs.ready(job, plan, processedDetails(status).attribute("folder", folder));
    }

    /** 200 {@code failed}: FAILED with status_code, the error's type, message and invalid[] entries. */
    public ExportJob failed(@ExchangeProperty("job") ExportJob job, EhealthJobStatus status) {
        String code = status.statusCode();
        String reason = "eHealth job " + job.vendorJobId() + " " + status.status()
                + (code == null ? "" : " with status_code " + code)
                + (status.requestId() == null ? "" : " (request_id " + status.requestId() + ")")
                + ": " + (status.error().isEmpty() ? "no error details given" : status.error().describe());
        JobUpdate u = JobUpdate.keepState().vendorStatus(status.status())
                .attribute("ehealthStatusCode", code)
                .attribute("ehealthErrorType", status.error().type())
                .attribute("suggestedAction", failedAction(code, status.error()));
        return fail(job, status, reason, requestId(u, status.requestId()));
    }

    /** 404: eHealth does not know the job. */
    public ExportJob unknownJob(@ExchangeProperty("job") ExportJob job, EhealthJobStatus status) {
        SourceConfig source = sources.get(job.sourceId());
        String reason = "eHealth does not know job " + job.vendorJobId() + ": " + status.summary();
        JobUpdate u = JobUpdate.keepState().vendorStatus("unknown job").attribute("suggestedAction",
                "Check the job id and that relay.sources." + source.id() + ".base-url is the eHealth environment"
                        + " where the MIS submitted the package (jobs are only found there)");
        return fail(job, status, reason, requestId(u, status.requestId()));
    }

    /** Route predicate on a 401: was the token already renewed once for this job? */
    public boolean tokenAlreadyRenewed(@ExchangeProperty("job") ExportJob job) {
        return "true".equals(job.attribute("authRetried"));
    }

    /** 401 again after a renewal: FAILED, the credentials are refused. */
    public ExportJob tokenRefused(@ExchangeProperty("job") ExportJob job, EhealthJobStatus status) {
        SourceConfig source = sources.get(job.sourceId());
        String reason = "eHealth refused the credentials again after renewing the token: " + status.summary();
        JobUpdate u = JobUpdate.keepState().attribute("authRetried", null).attribute("suggestedAction",
                "Give relay.sources." + source.id() + " a valid access token (auth.token or auth.token-file), or a"
                        + " valid refresh token with its client id and secret, and check the api-key");
        return fail(job, status, reason, requestId(u, status.requestId()));
    }

    /** Any other 4xx (403 scope, 400...): FAILED with eHealth's reason. */
    public ExportJob refused(@ExchangeProperty("job") ExportJob job, EhealthJobStatus status) {
        String reason = "eHealth refused the status request of job " + job.vendorJobId() + ": " + status.summary();
        String action = status.httpCode() == 403
                ? "Give the MIS user's token the job:read scope (and read scopes of the created entities)"
                : "Check the reason and the source's configuration";
        JobUpdate u = JobUpdate.keepState().attribute("suggestedAction", action);
        return fail(job, status, reason, requestId(u, status.requestId()));
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    static String failedAction(String statusCode, EhealthError error) {
        String type = error.type() == null ? "" : error.type();
        String code = statusCode == null ? "" : statusCode.strip();
        if (code.equals("422") || type.equals("validation_failed")) {
            return "Correct the data named in invalid[] (each entry and the rule it broke) and submit the package"
                    + " again from the MIS";
        }
        if (code.equals("409") || type.equals("request_conflict")) {
            return "The request conflicts with the record's current state at eHealth (already changed or"
                    + " cancelled); check the record before submitting again";
        }
        if (code.equals("404")) {
            return "Something the package refers to (patient, episode, encounter...) was not found at eHealth;"
                    + " check the referenced ids and submit again";
        }
        if (code.equals("403")) {
            return "The MIS user or legal entity may not do this; check its scopes and rights at eHealth";
        }
        if (code.startsWith("5") || type.equals("internal_error")) {
            return "eHealth failed while processing the package; submit it again later, or ask eHealth support"
                    + " quoting the request_id";
        }
        return "Read the error, fix the package and submit it again; quote the request_id to eHealth support";
    }

    private JobUpdate processedDetails(EhealthJobStatus status) {
        JobUpdate u = JobUpdate.keepState().vendorStatus("processed").progress("processed")
                .attribute("ehealthStatusCode", status.statusCode()).attribute("unknownStatus", null)
                .attribute("authRetried", null);
        return requestId(u, status.requestId());
    }

    private static JobUpdate requestId(JobUpdate u, String requestId) {
        if (requestId != null && !requestId.isBlank()) {
            u.requestId(requestId).attribute("requestId", cut(requestId, 200));
        }
        return u;
    }

    private ExportJob withRequestId(ExportJob job, String requestId) {
        if (requestId == null || requestId.isBlank() || requestId.equals(job.requestId())) {
            return job;
        }
        return jobs.note(job, requestId(JobUpdate.keepState(), requestId)); // keeps the lease
    }

    /** FAILED with the reason, and the one job.fault line (fault=fatal) naming the HTTP code of eHealth's answer. */
    private ExportJob fail(ExportJob job, EhealthJobStatus status, String reason, JobUpdate update) {
        return jobs.failAnswer(job, status.httpCode(), reason, update);
    }

    static String folder(ExportJob job, SourceConfig source) {
        String planned = job.attribute("folder");
        if (planned != null) {
            return planned;
        }
        Map<String, String> values = KeyLayout.commonValues(source.id(), job.id(), job.createdAt());
        values.put(EhealthKind.JOB_ID_PLACEHOLDER, job.vendorJobId());
        return KeyLayout.jobFolder(source.property("path", EhealthKind.DEFAULT_PATH), values);
    }

    /** One planned file per entity link; the job's own link and repeated links are left out. */
    static List<JobFile> plan(ExportJob job, SourceConfig source, String folder, List<JobEnvelope.Link> links) {
        List<JobFile> files = new ArrayList<>();
        Set<String> urls = new HashSet<>();
        Map<String, Integer> keys = new HashMap<>();
        URI self = job.statusUrl() == null ? null : URI.create(job.statusUrl());
        for (JobEnvelope.Link link : links) {
            String entity = link.entity() == null || link.entity().isBlank() ? "entity" : link.entity().strip();
            if (entity.equalsIgnoreCase("job")) {
                continue;
            }
            if (link.href() == null || link.href().isBlank()) {
                throw new UrlPolicy.RefusedUrlException("the link of entity '" + cut(entity, 100) + "' has no href");
            }
            URI url = resolve(source, link.href());
            if (url.equals(self)) {
                continue;
            }
            UrlPolicy.checkFileUrl(source, url);
            if (!urls.add(url.toString())) {
                continue;
            }
            String id = lastSegment(url);
            String base = folder + "/" + KeyLayout.segment(entity) + "/" + KeyLayout.segment(id == null
                    ? "entity-" + (files.size() + 1) : id);
            int n = keys.merge(base, 1, Integer::sum);
            String key = base + (n == 1 ? "" : "-" + n) + ".json";
            files.add(JobFile.planned(files.size() + 1, "entity", cut(entity, 200), url.toString(), key));
        }
        return files;
    }

    /**
     * An entity href as a URL: {@code {host}} (the docs' placeholder for the API host) and path-absolute hrefs
     * are taken relative to the base URL (keeping a gateway's path prefix), other relative ones are resolved
     * against it, absolute ones are kept (then checked against the source's hosts).
     */
    static URI resolve(SourceConfig source, String href) {
        URI base = source.requireBaseUrl();
        String h = href.strip();
        if (h.regionMatches(true, 0, "{host}", 0, 6)) {
            h = h.substring(6);
            if (!h.startsWith("/")) {
                h = "/" + h;
            }
        }
        URI u;
        try {
            u = new URI(h);
        } catch (URISyntaxException e) {
            // not quoted: an unreadable signed link cannot be redacted reliably
            throw new UrlPolicy.RefusedUrlException("a link that is not a URL");
        }
        if (u.isAbsolute()) {
            return u.normalize();
        }
        if (h.startsWith("/") && !h.startsWith("//")) {
            String prefix = base.getRawPath() == null || base.getRawPath().isEmpty() ? "/" : base.getRawPath();
            if (prefix.length() > 1 && !h.startsWith(prefix)) {
                h = prefix + h.substring(1);
            }
        }
        return base.resolve(h).normalize();
    }

    /** The entity id: the last non-empty path segment, percent-decoded (then sanitised into the key). */
    private static String lastSegment(URI url) {
        String path = url.getRawPath();
        if (path == null) {
            return null;
        }
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) {
            if (!parts[i].isBlank()) {
                try {
                    return new URI("x:" + parts[i]).getSchemeSpecificPart();
                } catch (URISyntaxException e) {
                    return parts[i];
                }
            }
        }
        return null;
    }

    private static String snippet(byte[] bytes) {
        String text = new String(bytes, 0, Math.min(bytes.length, MAX_SNIPPET * 2), StandardCharsets.UTF_8)
                .replaceAll("\\s+", " ").replaceAll("\\p{Cntrl}", "?").trim();
        return text.length() > MAX_SNIPPET ? text.substring(0, MAX_SNIPPET) + "…" : text;
    }

    private static String cut(String s, int max) {
        return s.length() > max ? s.substring(0, max - 1) + "…" : s;
    }
}
