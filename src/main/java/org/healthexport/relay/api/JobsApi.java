package org.healthexport.relay.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.http.Redaction;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobFile;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.source.JobAdopter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The jobs API behind the REST routes: list and read jobs, adopt an export started elsewhere. With
 * {@code relay.api.token} set every call needs {@code Authorization: Bearer <token>}, compared in constant time.
 */
public class JobsApi {
    private static final Logger LOG = LoggerFactory.getLogger(JobsApi.class);
    static final int MAX_BODY = 64 * 1024;
    private final JobStore store;
    private final JobLifecycle jobs;
    private final Sources sources;
    private final Map<String, JobAdopter> adopters;
    private final byte[] token;
    private final ObjectMapper json = new ObjectMapper();

    public JobsApi(JobStore store, JobLifecycle jobs, Sources sources, Map<String, JobAdopter> adopters, String token) {
        this.store = store;
        this.jobs = jobs;
        this.sources = sources;
        this.adopters = adopters;
        this.token = token == null || token.isBlank() ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    /** First step of every API route. */
    public void authorize(@Header("Authorization") String authorization) {
        if (token == null) {
            return;
        }
        byte[] given = authorization != null && authorization.startsWith("Bearer ")
                ? authorization.substring(7).getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(token, given)) {
            throw new ApiException(401, "Missing or wrong bearer token");
        }
    }

    public List<Map<String, Object>> list(@Header("state") String state, @Header("limit") String limit) {
        JobState filter = null;
        if (state != null && !state.isBlank()) {
            try {
                filter = JobState.valueOf(state.trim().toUpperCase());
            } catch (IllegalArgumentException e) {
                throw new ApiException(400, "Unknown state '" + state + "'");
            }
        }
        int max;
        try {
            max = limit == null ? 100 : Math.max(1, Math.min(1000, Integer.parseInt(limit)));
        } catch (NumberFormatException e) {
            throw new ApiException(400, "limit must be a number");
        }
        return store.list(filter, max).stream().map(j -> view(j, false)).toList();
    }

    public Map<String, Object> get(@Header("id") String id) {
        return store.find(id).map(j -> view(j, true))
                .orElseThrow(() -> new ApiException(404, "No job '" + id + "'"));
    }

    /** {@code POST /api/jobs}: adopts an export by its source's rules; the same export twice is one job. */
    public Map<String, Object> adopt(@Body String body, Exchange exchange) {
        Map<String, Object> request = parse(body);
        Object sourceId = request.get("source");
        if (!(sourceId instanceof String id) || !sources.contains(id)) {
            throw new ApiException(sourceId == null ? 400 : 404, sourceId == null ? "\"source\" is required"
                    : "Unknown source '" + sourceId + "'");
        }
        SourceConfig source = sources.get(id);
        JobAdopter adopter = adopters.get(source.kind());
        if (adopter == null) {
            throw new ApiException(400, "Jobs of kind " + source.kind() + " cannot be adopted");
        }
        try {
            var adoption = adopter.submit(source, request, jobs);
            exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, adoption.created() ? 201 : 200);
            return view(adoption.job(), false);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage());
        }
    }

    /** {@code POST /api/sources/{id}/run}: checks the source before the kick-off route runs. */
    public String checkSource(@Header("id") String id) {
        if (!sources.contains(id)) {
            throw new ApiException(404, "Unknown source '" + id + "'");
        }
        return id;
    }

    /**
     * What {@code POST /api/sources/{id}/run} answers: 202 with the job (a refused kick-off is that job, FAILED with
     * the source's words), or with a kind's summary (HealthEx), 409 when skipped.
     */
    public Object kickoffResult(@Body Object result, Exchange exchange) {
        var msg = exchange.getMessage();
        if (result instanceof ExportJob job) {
            msg.setHeader(Exchange.HTTP_RESPONSE_CODE, 202);
            return view(job, false);
        }
        msg.setHeader(Exchange.HTTP_RESPONSE_CODE, result instanceof String ? 409 : 202);
        return result instanceof String s ? Map.of("skipped", s) : result;
    }

    private Map<String, Object> parse(String body) {
        if (body == null || body.isBlank()) {
            throw new ApiException(400, "A JSON body is required");
        }
        if (body.length() > MAX_BODY) {
            throw new ApiException(413, "Request body over " + MAX_BODY + " bytes");
        }
        try {
            Map<String, Object> map = json.readValue(body, new TypeReference<>() { });
            if (map == null) {
                throw new ApiException(400, "A JSON object is required");
            }
            return map;
        } catch (JsonProcessingException e) {
            throw new ApiException(400, "Body is not a JSON object");
        }
    }

    Map<String, Object> view(ExportJob job, boolean withFiles) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", job.id());
        m.put("source", job.sourceId());
        m.put("kind", job.kind());
        m.put("state", job.state().name());
        m.put("vendorJobId", job.vendorJobId());
        m.put("statusUrl", Redaction.url(job.statusUrl()));
        m.put("vendorStatus", job.vendorStatus());
        m.put("progress", job.progress());
        m.put("nextPollAt", str(job.nextPollAt()));
        m.put("attempts", job.attempts());
        m.put("lastError", job.lastError());
        m.put("unknownStatus", job.attribute("unknownStatus"));
        m.put("requestId", job.requestId());
        m.put("transactionTime", str(job.transactionTime()));
        m.put("expires", str(job.expiresAt()));
        m.put("createdAt", str(job.createdAt()));
        m.put("updatedAt", str(job.updatedAt()));
        List<JobFile> files = store.files(job.id());
        m.put("filesPlanned", files.size());
        m.put("filesDelivered", files.stream().filter(JobFile::isDelivered).count());
        m.put("bytesDelivered", files.stream().mapToLong(f -> f.bytes() == null ? 0 : f.bytes()).sum());
        store.receiptKey(job.id()).ifPresent(k -> m.put("receipt", k));
        if (withFiles) {
            m.put("files", files.stream().map(f -> {
                Map<String, Object> fm = new LinkedHashMap<>();
                fm.put("key", f.targetKey());
                fm.put("group", f.group());
                fm.put("type", f.type());
                fm.put("delivered", f.isDelivered());
                fm.put("bytes", f.bytes());
                fm.put("sha256", f.sha256());
                return fm;
            }).toList());
        }
        return m;
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    /** The JSON error body for an {@link ApiException} or any other failure of an API route. */
    public Map<String, Object> error(Exchange exchange) {
        Exception e = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        int status = e instanceof ApiException api ? api.status() : 500;
        if (status == 500) {
            LOG.warn("Jobs API route {} failed: {}", exchange.getFromRouteId(), String.valueOf(e));
        }
        String message = e instanceof ApiException ? e.getMessage() : "Internal error; see the relay log";
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        return Map.of("error", message, "status", status);
    }
}
