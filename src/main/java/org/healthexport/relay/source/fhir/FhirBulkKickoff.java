package org.healthexport.relay.source.fhir;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.http.UrlPolicy;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.JobUpdate;
import org.healthexport.relay.job.NewJob;
import org.healthexport.relay.source.JobAdopter;

import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Kick-off of a FHIR Bulk Data export ({@code relay.sources.<id>.export}) at system, Patient or Group level, by
 * GET with query parameters or by POST with a {@code Parameters} body; {@code _since=auto} sends the
 * transactionTime of the last delivered export.
 */
public class FhirBulkKickoff implements JobAdopter {
    /** The source keys a kick-off reads; a kind that extends it reads them too. */
    public static final Set<String> KEYS = Set.of("export", "kickoff-method", "since");
    protected final Sources sources;
    protected final JobStore store;
    protected final JobLifecycle jobs;
    private final ObjectMapper json = new ObjectMapper();

    public FhirBulkKickoff(Sources sources, JobStore store, JobLifecycle jobs) {
        this.sources = sources;
        this.store = store;
        this.jobs = jobs;
    }

    /** The request a kick-off sends, worked out from the source's settings. */
    public record KickoffRequest(String method, URI url, String body) { }

    public KickoffRequest request(SourceConfig source) {
        String export = export(source);
        String path = export.contains("?") ? export.substring(0, export.indexOf('?')) : export;
        Map<String, List<String>> params = parseQuery(export.contains("?") ? export.substring(export.indexOf('?') + 1) : "");
        since(source).ifPresent(s -> params.put("_since", List.of(s.toString())));
        URI base = source.requireBaseUrl();
        String method = method(source, path);
        if (method.equals("POST")) {
            return new KickoffRequest("POST", base.resolve(path), parametersBody(params));
        }
        if (!method.equals("GET")) {
            throw new ConfigurationException("Source " + source.id() + ": kickoff-method must be GET or POST");
        }
        StringBuilder query = new StringBuilder();
        params.forEach((name, values) -> {
            query.append(query.length() == 0 ? "?" : "&").append(enc(name)).append('=')
                    .append(String.join(",", values.stream().map(FhirBulkKickoff::enc).toList()));
        });
        return new KickoffRequest("GET", URI.create(base.resolve(path) + query.toString()), null);
    }

    /** Hook: the export to request, relative to the base URL ({@code relay.sources.<id>.export}). */
    protected String export(SourceConfig source) {
        return source.property("export", "$export");
    }

    /** Hook: GET or POST ({@code kickoff-method}); a kind may choose by the export's level. */
    protected String method(SourceConfig source, String path) {
        return source.property("kickoff-method", "GET").toUpperCase();
    }

    /** Hook: the vendor's own id of the job, read from its status URL; null when the URL is all there is. */
    protected String vendorJobId(URI statusUrl) {
        return null;
    }

    /** The names of the parameters the kick-off sends (for a kind's checks at startup). */
    public static Set<String> parameterNames(String export) {
        return parseQuery(export.contains("?") ? export.substring(export.indexOf('?') + 1) : "").keySet();
    }

    /** Route step: sets the HTTP method, URL, body and Bulk Data headers of the kick-off. */
    public void prepare(@ExchangeProperty("sourceId") String sourceId, Exchange exchange) {
        SourceConfig source = sources.get(sourceId);
        KickoffRequest r = request(source);
        var msg = exchange.getMessage();
        msg.setHeader(Exchange.HTTP_METHOD, r.method());
        msg.setHeader("Accept", "application/fhir+json");
        msg.setHeader("Prefer", "respond-async");
        if (r.body() != null) {
            msg.setHeader(Exchange.CONTENT_TYPE, "application/fhir+json");
            msg.setBody(r.body());
        } else {
            msg.setBody(null);
        }
        exchange.setProperty("kickoffUrl", r.url().toString());
    }

    // ---- kick-offs recorded as jobs (every Bulk Data kind: a kick-off may wait, be retried, or fail on its token) --

    /** Attribute of a job whose kick-off is not accepted yet: {@code queued}. */
    public static final String KICKOFF = "kickoff";

    /**
     * Records a kick-off as a SUBMITTED job without a status URL, before anything is sent: its kick-off may
     * then be refused for now (Oracle's 429 throttled), wait for another export, or fail on its token, and each
     * of those is a state of a job, kept across restarts, retried by the poller and visible in the API. The
     * first claim is a lease away, so the caller sends the kick-off without the poller doing it as well. A
     * source has at most one queued kick-off: asking again returns it (property {@code alreadyQueued}).
     */
    public ExportJob queue(@ExchangeProperty("sourceId") String sourceId, Exchange exchange) {
        for (ExportJob j : store.activeJobsOf(sourceId)) {
            if (isQueued(j)) {
                exchange.setProperty("alreadyQueued", true);
                return j;
            }
        }
        // The new job names the source's newest job: requests that race past the check above (two replicas, two
        // calls at once) make the same job, which the store's adoption key keeps to one. A request that reads the
        // newest job after a racing one stored its job finds that job still queued: it answers that job, rather
        // than naming it and queuing a second.
        Optional<ExportJob> newest = store.newestJobOf(sourceId);
        if (newest.isPresent() && isQueued(newest.get())) {
            exchange.setProperty("alreadyQueued", true);
            return newest.get();
        }
        SourceConfig source = sources.get(sourceId);
        NewJob job = new NewJob(sourceId, source.kind(), null, null, null,
                Map.of(KICKOFF, "queued", "queuedAfter", newest.map(ExportJob::id).orElse("none")));
        JobStore.Adoption queued = jobs.submit(job, store.now().plus(jobs.lease()));
        // not created: a racing request queued it, and sends it
        exchange.setProperty("alreadyQueued", !queued.created());
        return queued.job();
    }

    /** Route step: a kick-off the source refused for good ends its job FAILED, in the source's words. */
    public ExportJob refused(@ExchangeProperty("job") ExportJob job, @Body StatusError error) {
        String by = vendor() == null ? "" : " by " + vendor();
        return jobs.failAnswer(job, error.httpCode(), "Kick-off refused" + by + ": " + error.text());
    }

    /** Hook: the vendor's name for a kind's messages ("Kick-off refused by Redox"); null for any Bulk Data server. */
    protected String vendor() {
        return null;
    }

    private static boolean isQueued(ExportJob job) {
        return !job.state().isTerminal() && job.statusUrl() == null && "queued".equals(job.attribute(KICKOFF));
    }

    /**
     * Route step after the 202 of a queued kick-off: the job takes its status URL (and the vendor's job id)
     * and is polled from now on.
     */
    public ExportJob started(@ExchangeProperty("job") ExportJob job, @ExchangeProperty("kickoffUrl") String kickoffUrl,
                             @Header("Content-Location") String contentLocation) {
        SourceConfig source = sources.get(job.sourceId());
        if (contentLocation == null || contentLocation.isBlank()) {
            // sending it again would start a second export at the vendor: the job ends here, said plainly
            return jobs.fail(job, "Kick-off was accepted (202) without a Content-Location: the export cannot be"
                    + " followed; check the source, and delete the export there if it runs");
        }
        URI status = statusUrl(source, contentLocation);
        String vendorId = vendorJobId(status);
        NewJob identity = new NewJob(job.sourceId(), job.kind(), vendorId, status.toString(), kickoffUrl, Map.of());
        Optional<ExportJob> follower = store.findAdopted(identity).filter(other -> !other.id().equals(job.id()));
        if (follower.isPresent()) {
            // two jobs cannot follow one export; the URL is not quoted, as a status URL may carry a token
            return jobs.fail(job, "Kick-off was accepted (202) with the status URL job " + follower.get().id()
                    + " already follows (" + follower.get().state() + "): the source reused it, so this export"
                    + " cannot be told apart; check the source");
        }
        return jobs.transition(job, JobUpdate.keepState().statusUrl(status.toString()).vendorJobId(vendorId)
                .requestUrl(kickoffUrl).dedupKey(identity.dedupKey()).vendorStatus("accepted")
                .attribute(KICKOFF, null).attempts(0).clearLastError().nextPollAt(store.now()));
    }

    private URI statusUrl(SourceConfig source, String contentLocation) {
        if (contentLocation == null || contentLocation.isBlank()) {
            throw new MalformedStatusException("Kick-off at " + source + " answered 202 without Content-Location");
        }
        URI status = contentLocation(source, contentLocation);
        UrlPolicy.checkStatusUrl(source, status);
        return status;
    }

    /** The status URL a kick-off's Content-Location names, resolved against the source's base URL. */
    private static URI contentLocation(SourceConfig source, String contentLocation) {
        try {
            return source.requireBaseUrl().resolve(contentLocation.trim());
        } catch (IllegalArgumentException e) {
            // not quoted: the JDK's message holds the whole header, and a status URL may carry a token
            throw new MalformedStatusException("Kick-off at " + source + " answered a Content-Location that is not"
                    + " a URL");
        }
    }

    @Override
    public NewJob adopt(SourceConfig source, Map<String, Object> request) {
        Object url = request.get("statusUrl");
        if (!(url instanceof String s) || s.isBlank()) {
            throw new IllegalArgumentException("A " + source.kind() + " job is adopted with \"statusUrl\"");
        }
        URI status;
        try {
            status = source.requireBaseUrl().resolve(s.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("statusUrl is not a URL");
        }
        try {
            UrlPolicy.checkStatusUrl(source, status);
        } catch (UrlPolicy.RefusedUrlException e) {
            // the source's token would be sent to this URL: refuse it
            throw new IllegalArgumentException("statusUrl refused: " + e.getMessage());
        }
        return new NewJob(source.id(), source.kind(), null, status.toString(), null, Map.of());
    }

    private Optional<Instant> since(SourceConfig source) {
        String since = source.property("since", "");
        if (since.isBlank()) {
            return Optional.empty();
        }
        if (since.equals("auto")) {
            return store.lastTransactionTime(source.id());
        }
        try {
            return Optional.of(Instant.parse(since));
        } catch (RuntimeException e) {
            throw new ConfigurationException("Source " + source.id() + ": since must be 'auto' or an instant");
        }
    }

    private String parametersBody(Map<String, List<String>> params) {
        ObjectNode root = json.createObjectNode().put("resourceType", "Parameters");
        ArrayNode list = root.putArray("parameter");
        params.forEach((name, values) -> {
            for (String joined : values) {
                for (String value : name.equals("_since") || name.equals("_typeFilter") ? List.of(joined)
                        : List.of(joined.split(","))) {
                    ObjectNode p = list.addObject().put("name", name);
                    if (name.equals("patient")) {
                        p.putObject("valueReference").put("reference", value);
                    } else if (name.equals("_since") || name.equals("_until")) {
                        p.put("valueInstant", value);
                    } else {
                        p.put("valueString", value);
                    }
                }
            }
        });
        return root.toString();
    }

    static Map<String, List<String>> parseQuery(String query) {
        Map<String, List<String>> params = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return params;
    }

    private static String enc(String s) {
        // keep commas readable: servers accept both, and the IG's examples use them bare
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("%2C", ",").replace("%2F", "/").replace("%3A", ":");
    }
}
