package org.healthexport.relay.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import org.healthexport.relay.config.RelayProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The eHealth (ESOZ) medical-events async jobs as documented (vendor-apis.md section 5, Apiary, medical_events
 * 2019): {@code GET /api/jobs/{id}} answers 200 {@code pending} (with {@code eta} and the job's own link) for
 * N polls, then 303 {@code processed} with {@code data.links} and NO Location header, or 200 {@code processed}
 * with {@code response_data}, or 200 {@code failed} with {@code status_code} and an error
 * ({@code {type, message, invalid[]}} for 422, {@code request_conflict} for 409, {@code internal_error} for 500,
 * a plain string as the Confluence example); 404 with the error envelope for an unknown id; 401 for a missing,
 * wrong or expired token or api-key. Every answer is in the envelope {@code {data, meta{code, url, type,
 * request_id}}}. The created entities are served at their hrefs ({@code /api/patients/{pid}/...}); hrefs are
 * relative, {@code {host}}-prefixed (as in the docs) or absolute, one entity is the docs' misspelled
 * {@code medication_statemet}. {@code POST /oauth/tokens} exchanges a refresh token (Mithril's shape).
 * {@code POST /api/patients/{pid}/encounter_package} answers 202 with a new pending job. Faults (429 with
 * Retry-After, 5xx, malformed bodies, unknown status values) are queued per job. Every request is recorded.
 */
public class EhealthSandbox extends SandboxServer {
    private static final Logger LOG = LoggerFactory.getLogger(EhealthSandbox.class);
    private static final DateTimeFormatter ETA = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter NAIVE_ETA = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS")
            .withZone(ZoneOffset.UTC);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ISSUED_PREFIX = "ehealth-at-";

    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final Map<String, byte[]> entities = new ConcurrentHashMap<>();
    private final Map<String, Deque<Fault>> faults = new ConcurrentHashMap<>();
    private final Map<String, Instant> validTokens = new ConcurrentHashMap<>();
    private final Map<String, String> refreshTokens = new ConcurrentHashMap<>();
    private final Map<String, String> clients = new ConcurrentHashMap<>();
    private final List<ApiKeyUse> apiKeyUses = new CopyOnWriteArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();
    /** An ObjectId's per-process random part: ids stay unique across sandboxes, as across MongoDB processes. */
    private final byte[] process = new byte[5];
    private final AtomicInteger requestIds = new AtomicInteger();
    private final AtomicInteger issued = new AtomicInteger();
    private volatile String apiKey;
    private volatile int tokenLifetimeSeconds = 3600;

    public EhealthSandbox(String host, int port) {
        super(host, port);
        new SecureRandom().nextBytes(process);
    }

    /**
     * From {@code relay.sandbox.ehealth-jobs.*}: {@code tokens} (accepted access tokens, default
     * {@code sandbox-token}), {@code api-key} (required when set), {@code client-id}/{@code client-secret}/
     * {@code refresh-token} (a registered MIS client), {@code token-lifetime} (seconds of an issued token).
     */
    public static EhealthSandbox fromProperties(RelayProperties p) {
        String prefix = "relay.sandbox.ehealth-jobs.";
        EhealthSandbox s = new EhealthSandbox(p.get("relay.sandbox.host", "127.0.0.1"), p.getInt(prefix + "port", 0));
        for (String t : p.get(prefix + "tokens", "sandbox-token").split(",")) {
            if (!t.isBlank()) {
                s.acceptToken(t.strip());
            }
        }
        p.get(prefix + "api-key").filter(k -> !k.isBlank()).ifPresent(s::requireApiKey);
        p.get(prefix + "client-id").ifPresent(id -> s.registerClient(id, p.get(prefix + "client-secret", ""),
                p.get(prefix + "refresh-token", "sandbox-refresh-token")));
        s.tokenLifetimeSeconds(p.getInt(prefix + "token-lifetime", 3600));
        return s;
    }

    /** What a status poll ends with once its pending polls are over. */
    public enum Outcome { LINKS, RESPONSE_DATA, FAILED }

    /** A queued answer to the next status poll of one job. */
    public record Fault(int code, String retryAfter, String body) {
        public static Fault status(int code, String retryAfter) {
            return new Fault(code, retryAfter, null);
        }

        /** A 200 whose body is not the job envelope. */
        public static Fault malformed(String body) {
            return new Fault(200, null, body);
        }
    }

    /** One request's api-key header (the base recorder keeps Authorization). */
    public record ApiKeyUse(String method, String path, String apiKey) { }

    /** A link as the job answer lists it. */
    public record Link(String entity, String href) { }

    public static final class Job {
        final String id;
        final String patientId;
        final int pendingPolls;
        final int etaSeconds;
        final boolean naiveEta;
        final Outcome outcome;
        final List<Link> links;
        final String responseData;
        final String statusCode;
        final String error;
        final AtomicInteger polls = new AtomicInteger();
        volatile String lastRequestId;

        Job(String id, String patientId, int pendingPolls, int etaSeconds, boolean naiveEta, Outcome outcome,
            List<Link> links, String responseData, String statusCode, String error) {
            this.id = id;
            this.patientId = patientId;
            this.pendingPolls = pendingPolls;
            this.etaSeconds = etaSeconds;
            this.naiveEta = naiveEta;
            this.outcome = outcome;
            this.links = links;
            this.responseData = responseData;
            this.statusCode = statusCode;
            this.error = error;
        }
    }

    // ---- settings, for the configuration and the tests -----------------------------------------------------

    public EhealthSandbox acceptToken(String token) { validTokens.put(token, Instant.MAX); return this; }
    public EhealthSandbox requireApiKey(String key) { this.apiKey = key; return this; }
    public EhealthSandbox registerClient(String clientId, String secret, String refreshToken) {
        clients.put(clientId, secret);
        refreshTokens.put(refreshToken, clientId);
        return this;
    }
    public EhealthSandbox tokenLifetimeSeconds(int s) { this.tokenLifetimeSeconds = s; return this; }
    /** The token stops being accepted (expired at eHealth): the next request with it gets 401. */
    public void expireToken(String token) { validTokens.remove(token); }
    /** Every token issued by {@code POST /oauth/tokens} so far stops being accepted (configured ones stay). */
    public void expireIssuedTokens() { validTokens.keySet().removeIf(t -> t.startsWith(ISSUED_PREFIX)); }
    public int tokensIssued() { return issued.get(); }
    public List<ApiKeyUse> apiKeyUses() { return List.copyOf(apiKeyUses); }
    public void queueFault(String jobId, Fault fault) {
        faults.computeIfAbsent(jobId, k -> new ConcurrentLinkedDeque<>()).add(fault);
    }
    /** How many times the job's status was asked for. */
    public int polls(String jobId) { Job j = jobs.get(jobId); return j == null ? 0 : j.polls.get(); }
    /** The request_id of the last answer about the job. */
    public String lastRequestId(String jobId) { Job j = jobs.get(jobId); return j == null ? null : j.lastRequestId; }
    /** The exact bytes served for an entity path ({@code /api/patients/.../encounters/...}). */
    public byte[] entity(String path) { return entities.get(path); }
    public Set<String> entityPaths() { return Set.copyOf(entities.keySet()); }
    public String jobPath(String jobId) { return "/api/jobs/" + jobId; }

    // ---- jobs ------------------------------------------------------------------------------------------

    /**
     * A fresh job id, a MongoDB ObjectId as medical_events has them (24 hex digits): seconds, the process's random
     * part, a counter.
     */
    public String newJobId() {
        int count = ids.incrementAndGet();
        return HexFormat.of().formatHex(ByteBuffer.allocate(12).putInt((int) Instant.now().getEpochSecond())
                .put(process).put((byte) (count >> 16)).put((byte) (count >> 8)).put((byte) count).array());
    }

    /**
     * A job that is pending for {@code pendingPolls} polls (eta {@code etaSeconds} ahead), then answers 303 with
     * links to the entities an encounter package creates: relative, {@code {host}}-prefixed and absolute hrefs,
     * one of them the docs' misspelled {@code medication_statemet}.
     */
    public String processedWithLinks(int pendingPolls, int etaSeconds) {
        String id = newJobId();
        String pid = uuid(id, 0);
        String p = "/api/patients/" + pid;
        List<Link> links = List.of(
                new Link("encounter", p + "/encounters/" + uuid(id, 1)),
                new Link("condition", "{host}" + p + "/conditions/" + uuid(id, 2)),
                new Link("observation", baseUrl() + p + "/observations/" + uuid(id, 3)),
                new Link("medication_statemet", p + "/medication_statemets/" + uuid(id, 4)),
                new Link("allergy_intolerance", "{host}" + p + "/allergy_intolerances/" + uuid(id, 5)));
        return add(new Job(id, pid, pendingPolls, etaSeconds, false, Outcome.LINKS, links, null, "200", null));
    }

    /** A processed job whose links are given (to test hosts, odd names, duplicates). */
    public String processedWithLinks(int pendingPolls, List<Link> links) {
        String id = newJobId();
        return add(new Job(id, uuid(id, 0), pendingPolls, 1, false, Outcome.LINKS, links, null, "200", null));
    }

    /** A job that ends 200 processed with {@code response_data} (the JSON text given, kept byte for byte). */
    public String processedWithResponseData(int pendingPolls, String responseDataJson) {
        String id = newJobId();
        return add(new Job(id, uuid(id, 0), pendingPolls, 1, false, Outcome.RESPONSE_DATA, List.of(),
                responseDataJson, "200", null));
    }

    /**
     * A job that ends 200 failed with this status_code: 422 {@code validation_failed} with two
     * {@code invalid[]} entries, 409 {@code request_conflict}, 500 {@code internal_error}, 404 {@code not_found},
     * anything else the Confluence example's plain string error.
     */
    public String failed(int pendingPolls, int statusCode) {
        String id = newJobId();
        String error = switch (statusCode) {
            case 422 -> "{\"type\":\"validation_failed\",\"message\":\"Validation failed. You can find validators"
                    + " description at our API Manifest: http://docs.apimanifest.apiary.io/#introduction/interacting\","
                    + "\"invalid\":[{\"entry_type\":\"json_data_property\",\"entry\":\"$.encounter.period\","
                    + "\"rules\":[{\"rule\":\"required\",\"params\":[],\"description\":\"required property period was"
                    + " not present\"}]},{\"entry_type\":\"json_data_property\",\"entry\":\"$.conditions[0].code\","
                    + "\"rules\":[{\"rule\":\"invalid\",\"params\":[\"eHealth/ICPC2/condition_codes\"],"
                    + "\"description\":\"Value is not allowed in enum\"}]}]}";
            case 409 -> "{\"type\":\"request_conflict\",\"message\":\"Encounter with such id already exists\"}";
            case 500 -> "{\"type\":\"internal_error\",\"message\":\"Can't save data\"}";
            case 404 -> "{\"type\":\"not_found\",\"message\":\"Episode with such ID is not found\"}";
            default -> "\"Error description\"";
        };
        return add(new Job(id, uuid(id, 0), pendingPolls, 1, false, Outcome.FAILED, List.of(), null,
                String.valueOf(statusCode), error));
    }

    /** Pending for {@code pendingPolls} polls with the eta in the 2019 service's form (no offset), then links. */
    public String naiveEtaJob(int pendingPolls, int etaSeconds) {
        String id = newJobId();
        Job template = jobs.get(processedWithLinks(0, etaSeconds));
        jobs.remove(template.id);
        return add(new Job(id, template.patientId, pendingPolls, etaSeconds, true, Outcome.LINKS, template.links,
                null, "200", null));
    }

    private String add(Job job) {
        jobs.put(job.id, job);
        if (job.outcome == Outcome.LINKS) {
            for (Link l : job.links) {
                String path = path(l.href());
                if (path != null && path.startsWith("/api/patients/")) {
                    entities.computeIfAbsent(path, k -> entityBody(l.entity(), k));
                }
            }
        }
        return job.id;
    }

    /** The path a sandbox href points at on this server, or null for another host. */
    private String path(String href) {
        if (href.startsWith("{host}")) {
            return href.substring("{host}".length());
        }
        if (href.startsWith("/")) {
            return href;
        }
        return href.startsWith(baseUrl() + "/") ? href.substring(baseUrl().length()) : null;
    }

    private byte[] entityBody(String entity, String path) {
        String id = path.substring(path.lastIndexOf('/') + 1);
        String pid = path.split("/")[3];
        // exact bytes, non-ASCII included, spacing as a server might send it: deliveries must match byte for byte
        String json = "{\"data\": {\"id\": \"" + id + "\", \"patient_id\": \"" + pid + "\", \"entity\": \"" + entity
                + "\", \"status\": \"entered\", \"code\": {\"coding\": [{\"system\": \"eHealth/ICPC2/condition_codes\", \"code\": \"R80\"}],"
                + " \"text\": \"Грип / Influenza\"}, \"value\": 36.60, \"inserted_at\": \"2019-06-10T10:45:16.000Z\"},"
                + "\n \"meta\": {\"code\": 200, \"url\": \"" + baseUrl() + path + "\", \"type\": \"object\","
                + " \"request_id\": \"req-entity-" + id.substring(0, Math.min(8, id.length())) + "\"}}\n";
        return json.getBytes(StandardCharsets.UTF_8);
    }

    private static String uuid(String jobId, int n) {
        String h = jobId + String.format("%08x", n * 0x1f3d5b79L & 0xffffffffL);
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-4" + h.substring(13, 16) + "-8" + h.substring(17, 20)
                + "-" + h.substring(20, 32);
    }

    // ---- the API ---------------------------------------------------------------------------------------

    /**
     * For {@link ScriptedFaults}: posting an encounter package (which starts a job) is KICKOFF, a job status poll
     * STATUS, a linked entity's GET FILE.
     */
    @Override
    protected ScriptedFaults.Aim aim(HttpExchange ex) {
        String path = ex.getRequestURI().getPath();
        if (ex.getRequestMethod().equals("POST") && path.matches("/api/patients/[^/]+/encounter_package")) {
            return ScriptedFaults.Aim.KICKOFF;
        }
        if (!ex.getRequestMethod().equals("GET")) {
            return null;
        }
        if (path.startsWith("/api/jobs/")) {
            return ScriptedFaults.Aim.STATUS;
        }
        return path.startsWith("/api/patients/") ? ScriptedFaults.Aim.FILE : null;
    }

    @Override
    protected void handle(HttpExchange ex, String body) throws IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        apiKeyUses.add(new ApiKeyUse(method, path, ex.getRequestHeaders().getFirst("api-key")));
        if (path.equals("/oauth/tokens") && method.equals("POST")) {
            token(ex, body);
            return;
        }
        if (!authorized(ex)) {
            return;
        }
        if (path.startsWith("/api/jobs/") && method.equals("GET")) {
            status(ex, path.substring("/api/jobs/".length()));
        } else if (path.matches("/api/patients/[^/]+/encounter_package") && method.equals("POST")) {
            String pid = path.split("/")[3];
            String id = processedWithLinks(2, 1);
            LOG.info("eHealth sandbox: encounter package of patient {} -> job {}", pid, id);
            sendJson(ex, 202, jobEnvelope(jobs.get(id), "{\"status\":\"pending\",\"eta\":\"" + eta(jobs.get(id))
                    + "\",\"links\":[{\"entity\":\"job\",\"href\":\"/jobs/" + id + "\"}]}", 202));
        } else if (path.startsWith("/api/patients/") && method.equals("GET") && entities.containsKey(path)) {
            send(ex, 200, "application/json; charset=utf-8", entities.get(path));
        } else {
            error(ex, 404, "not_found", "Resource not found");
        }
    }

    private void status(HttpExchange ex, String id) throws IOException {
        Job job = jobs.get(id);
        if (job == null) {
            error(ex, 404, "not_found", "Job not found");
            return;
        }
        Deque<Fault> queued = faults.get(id);
        Fault fault = queued == null ? null : queued.poll();
        if (fault != null) {
            job.polls.incrementAndGet();
            if (fault.retryAfter() != null) {
                ex.getResponseHeaders().set("Retry-After", fault.retryAfter());
            }
            if (fault.body() != null) {
                send(ex, fault.code(), "application/json", fault.body().getBytes(StandardCharsets.UTF_8));
            } else {
                error(ex, fault.code(), fault.code() == 429 ? "too_many_requests" : "internal_error",
                        fault.code() == 429 ? "Too many requests" : "Service unavailable");
            }
            return;
        }
        int poll = job.polls.incrementAndGet();
        if (poll <= job.pendingPolls) {
            String data = "{\"status\":\"pending\",\"eta\":\"" + eta(job) + "\",\"links\":[{\"entity\":\"job\","
                    + "\"href\":\"/jobs/" + id + "\"}]}";
            respond(ex, job, 200, data);
            return;
        }
        switch (job.outcome) {
            case LINKS -> {
                StringBuilder links = new StringBuilder();
                for (Link l : job.links) {
                    links.append(links.length() == 0 ? "" : ",").append("{\"entity\":").append(quote(l.entity()))
                            .append(",\"href\":").append(quote(l.href())).append('}');
                }
                // 303 See Other WITHOUT a Location header, as medical_events answers: the links are the result
                respond(ex, job, 303, "{\"status\":\"processed\",\"eta\":\"" + eta(job) + "\",\"links\":[" + links
                        + "],\"status_code\":\"" + job.statusCode + "\"}");
            }
            case RESPONSE_DATA -> respond(ex, job, 200, "{\"status\":\"processed\",\"eta\":\"" + eta(job)
                    + "\",\"status_code\":200,\"response_data\":" + job.responseData + "}");
            case FAILED -> respond(ex, job, 200, "{\"error\":" + job.error + ",\"eta\":\"" + eta(job)
                    + "\",\"status\":\"failed\",\"status_code\":\"" + job.statusCode + "\"}");
            default -> throw new IllegalStateException();
        }
    }

    private void respond(HttpExchange ex, Job job, int code, String data) throws IOException {
        String envelope = jobEnvelope(job, data, code);
        send(ex, code, "application/json; charset=utf-8", envelope.getBytes(StandardCharsets.UTF_8));
    }

    private String jobEnvelope(Job job, String data, int code) {
        String requestId = "req-" + requestIds.incrementAndGet();
        job.lastRequestId = requestId;
        return "{\"data\":" + data + ",\"meta\":{\"code\":" + code + ",\"url\":\"" + baseUrl() + "/api/jobs/" + job.id
                + "\",\"type\":\"object\",\"request_id\":\"" + requestId + "\"}}";
    }

    private String eta(Job job) {
        Instant at = Instant.now().plusSeconds(job.etaSeconds);
        return job.naiveEta ? NAIVE_ETA.format(at) : ETA.format(at);
    }

    private boolean authorized(HttpExchange ex) throws IOException {
        String header = ex.getRequestHeaders().getFirst("Authorization");
        String token = header != null && header.startsWith("Bearer ") ? header.substring(7) : null;
        Instant until = token == null ? null : validTokens.get(token);
        if (until == null || Instant.now().isAfter(until)) {
            error(ex, 401, "access_denied", token == null ? "Authorization header required" : "Invalid access token");
            return false;
        }
        if (apiKey != null && !apiKey.equals(ex.getRequestHeaders().getFirst("api-key"))) {
            error(ex, 401, "access_denied", "Invalid api-key");
            return false;
        }
        return true;
    }

    /** Mithril's {@code POST /oauth/tokens}: {@code {"token": {grant_type: refresh_token, ...}}} -> 201. */
    private void token(HttpExchange ex, String body) throws IOException {
        JsonNode t;
        try {
            t = JSON.readTree(body).path("token");
        } catch (IOException e) {
            error(ex, 422, "validation_failed", "Body is not JSON");
            return;
        }
        if (!"refresh_token".equals(t.path("grant_type").asText())) {
            error(ex, 422, "unsupported_grant_type", "Grant type not supported by the sandbox");
            return;
        }
        String clientId = t.path("client_id").asText("");
        if (!clients.containsKey(clientId) || !clients.get(clientId).equals(t.path("client_secret").asText())) {
            error(ex, 401, "invalid_client", "Invalid client id or secret.");
            return;
        }
        String refresh = t.path("refresh_token").asText("");
        if (!clientId.equals(refreshTokens.get(refresh))) {
            error(ex, 401, "invalid_grant", "Token not found.");
            return;
        }
        String value = ISSUED_PREFIX + issued.incrementAndGet() + "-" + Long.toHexString(System.nanoTime());
        Instant expires = Instant.now().plusSeconds(tokenLifetimeSeconds);
        validTokens.put(value, expires);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("id", "tok-" + issued.get());
        data.put("name", "access_token");
        data.put("value", value);
        data.put("expires_at", expires.getEpochSecond());
        data.put("user_id", "sandbox-user");
        data.put("details", Map.of("grant_type", "refresh_token", "client_id", clientId, "scope", "job:read"));
        sendJson(ex, 201, JSON.writeValueAsString(Map.of("data", data, "meta", Map.of("code", 201, "type",
                "object", "request_id", "req-token-" + issued.get()))));
    }

    private void error(HttpExchange ex, int code, String type, String message) throws IOException {
        sendJson(ex, code, "{\"meta\":{\"code\":" + code + ",\"url\":\"" + baseUrl() + ex.getRequestURI().getPath()
                + "\",\"type\":\"object\",\"request_id\":\"req-" + requestIds.incrementAndGet() + "\"},\"error\":{\"type\":"
                + quote(type) + ",\"message\":" + quote(message) + "}}");
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every link href of a job as the sandbox served it (tests resolve them themselves). */
    public List<Link> links(String jobId) {
        Job j = jobs.get(jobId);
        return j == null ? List.of() : new ArrayList<>(j.links);
    }
}
