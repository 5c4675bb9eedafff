package org.healthexport.relay.sandbox;

import com.nimbusds.jose.jwk.JWK;
import com.sun.net.httpserver.HttpExchange;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;

/**
 * Redox's "FHIR Bulk Data Access" data model (Beta) as its documentation describes it, for the demo and tests.
 * <ul>
 *   <li>{@code POST /v2/auth/token}: form-encoded client_credentials with a signed JWT client assertion; Redox's
 *       documented refusals word for word ("x-www-form-urlencoded content-type required", "Missing grant_type
 *       parameter", "JWT header kid property is required", "Public key not found, check client_id, kid and Redox
 *       dashboard settings", ...); the key picked by kid, the signature checked; 5-minute tokens.</li>
 *   <li>{@code GET /fhir/R4/{destinationSlug}/{environment}/Group/{id}/$export} (environment Development,
 *       Staging or Production, case-sensitive): 202 with a Content-Location status URL.</li>
 *   <li>Status: the {@code status-check-response} envelope ({@code Meta} with DataModel, EventType,
 *       EventDateTime, Test, Source, Destinations, Logs), {@code status} 202 with {@code progress}, then
 *       {@code status} 200 with {@code output[]}, {@code transactionTime}, {@code request},
 *       {@code requiresAccessToken}; or, in plain mode, an HL7 answer (202 + X-Progress, 200 manifest).</li>
 *   <li>Files {@code .../BulkStatus/{id}/<type>-file-001.ndjson.gz}: gzip bytes, the bearer token required;
 *       optionally one file on another origin that refuses any Authorization header.</li>
 * </ul>
 * Expired tokens are refused (401) and counted, so a test can prove the relay renewed ahead of expiry.
 */
public class RedoxSandbox extends SandboxServer {
    public static final String TOKEN_PATH = "/v2/auth/token";
    static final Set<String> ENVIRONMENTS = Set.of("Development", "Staging", "Production");
    private final SandboxJwt jwt = new SandboxJwt();
    private final Storage external;
    private final Map<String, Instant> tokens = new ConcurrentHashMap<>();
    private final Map<String, String> tokenClients = new ConcurrentHashMap<>();
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final List<String> logIds = new CopyOnWriteArrayList<>();
    private final AtomicInteger expiredTokenRefusals = new AtomicInteger();
    private final Map<String, AtomicInteger> tokensByClient = new ConcurrentHashMap<>();
    private volatile int retryAfterSeconds = 5;
    private volatile int pollsBeforeReady = 2;
    private volatile int tokenLifetimeSeconds = 300;
    private volatile long fileDelayMillis;
    private volatile boolean plain;
    private volatile boolean alwaysHttp200;
    private volatile boolean externalFile;

    public RedoxSandbox(String host, int port) {
        super(host, port);
        this.external = sharingFaults(new Storage(host));
    }

    /**
     * The Group kick-off is KICKOFF, status checks are STATUS; every file answer with a body (here and on the
     * external host) is FILE.
     */
    @Override
    protected ScriptedFaults.Aim aim(HttpExchange ex) {
        if (!ex.getRequestMethod().equals("GET")) {
            return null;
        }
        String[] p = ex.getRequestURI().getPath().substring(1).split("/");
        if (p.length == 7 && p[0].equals("fhir") && p[4].equals("Group") && p[6].equals("$export")) {
            return ScriptedFaults.Aim.KICKOFF;
        }
        if (p.length < 6 || !p[0].equals("fhir") || !p[4].equals("BulkStatus")) {
            return null;
        }
        return p.length == 6 ? ScriptedFaults.Aim.STATUS : p.length == 7 ? ScriptedFaults.Aim.FILE : null;
    }

    /** Every token issued so far is refused from now on, as expired (a token lapsing in the middle of a series). */
    public void expireTokens() {
        Instant now = Instant.now();
        tokens.replaceAll((token, until) -> until.isAfter(now) ? now : until);
    }

    static final class Job {
        final String id;
        final String base;
        final String request;
        final List<String> types;
        final AtomicInteger polls = new AtomicInteger();

        Job(String id, String base, String request, List<String> types) {
            this.id = id;
            this.base = base;
            this.request = request;
            this.types = types;
        }
    }

    public RedoxSandbox retryAfterSeconds(int s) { this.retryAfterSeconds = s; return this; }
    public RedoxSandbox pollsBeforeReady(int n) { this.pollsBeforeReady = n; return this; }
    public RedoxSandbox tokenLifetimeSeconds(int s) { this.tokenLifetimeSeconds = s; return this; }
    /** Each file answer waits this long before it starts (a slow download). */
    public RedoxSandbox fileDelayMillis(long ms) { this.fileDelayMillis = ms; return this; }
    /** Plain HL7 answers instead of the envelope. */
    public RedoxSandbox plain(boolean on) { this.plain = on; return this; }
    /** HTTP 200 for every status answer, the state only in the envelope's status. */
    public RedoxSandbox alwaysHttp200(boolean on) { this.alwaysHttp200 = on; return this; }
    /** One more output file, on another origin that refuses an Authorization header. */
    public RedoxSandbox externalFile(boolean on) { this.externalFile = on; return this; }
    /** An OAuth API key: the public half of the client's key, picked by its kid. */
    public RedoxSandbox registerKey(String clientId, JWK publicKey) { jwt.register(clientId, publicKey); return this; }

    public String tokenUrl() { return baseUrl() + TOKEN_PATH; }
    public String externalOrigin() { return external.baseUrl(); }
    public List<RecordedRequest> externalRequests() { return external.requests(); }
    public List<String> logIds() { return List.copyOf(logIds); }
    public int expiredTokenRefusals() { return expiredTokenRefusals.get(); }
    public int tokensIssued(String clientId) { return tokensByClient.getOrDefault(clientId, new AtomicInteger()).get(); }
    public List<String> jobIds() { return List.copyOf(jobs.keySet()); }

    /** The NDJSON of a file, as delivered (the sandbox serves it gzipped). */
    public static byte[] content(String type) {
        return switch (type) {
            case "Patient" -> SandboxData.patients(4);
            case "Encounter" -> encounters(4);
            case "Observation" -> SandboxData.observations(4, 2);
            default -> ("{\"resourceType\":\"" + type + "\",\"id\":\"x1\"}\n").getBytes(StandardCharsets.UTF_8);
        };
    }

    static byte[] encounters(int patients) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= patients; i++) {
            sb.append("{\"resourceType\":\"Encounter\",\"id\":\"e").append(i).append("\",\"status\":\"finished\",")
                    .append("\"class\":{\"code\":\"AMB\"},\"subject\":{\"reference\":\"Patient/p").append(i).append("\"}}\n");
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected void doStart() throws IOException {
        super.doStart();
        external.start();
    }

    @Override
    protected void doStop() {
        external.stop();
        super.doStop();
    }

    @Override
    protected void handle(HttpExchange ex, String body) throws IOException {
        String path = ex.getRequestURI().getPath();
        if (path.equals(TOKEN_PATH)) {
            token(ex, body);
            return;
        }
        String[] p = path.substring(1).split("/");
        // fhir / R4 / slug / env / ...
        if (p.length < 5 || !p[0].equals("fhir") || !p[1].equals("R4") || !ENVIRONMENTS.contains(p[3])) {
            sendJson(ex, 404, FhirBulkSandbox.outcome("not-found", "Unknown path (URLs are case-sensitive)"));
            return;
        }
        if (!authorized(ex)) {
            return;
        }
        String base = baseUrl() + "/fhir/R4/" + p[2] + "/" + p[3] + "/";
        if (p.length == 7 && p[4].equals("Group") && p[6].equals("$export") && ex.getRequestMethod().equals("GET")) {
            String query = ex.getRequestURI().getRawQuery();
            String types = FhirBulkSandbox.query(query).getOrDefault("_type", "Patient,Encounter");
            String id = UUID.randomUUID().toString().substring(0, 8);
            jobs.put(id, new Job(id, base, "/fhir/R4/" + p[2] + "/" + p[3] + "/Group/" + p[5] + "/$export"
                    + (query == null ? "" : "?" + query), List.of(types.split(","))));
            ex.getResponseHeaders().set("Content-Location", base + "BulkStatus/" + id);
            send(ex, 202, null, new byte[0]);
        } else if (p.length == 6 && p[4].equals("BulkStatus")) {
            status(ex, p[5]);
        } else if (p.length == 7 && p[4].equals("BulkStatus")) {
            file(ex, p[5], p[6]);
        } else {
            sendJson(ex, 404, FhirBulkSandbox.outcome("not-found", "Unknown resource"));
        }
    }

    private void status(HttpExchange ex, String id) throws IOException {
        Job job = jobs.get(id);
        if (job == null) {
            sendJson(ex, 404, FhirBulkSandbox.outcome("not-found", "No export " + id));
            return;
        }
        int poll = job.polls.incrementAndGet();
        boolean done = poll > pollsBeforeReady;
        String progress = done ? null : (100 * poll / (pollsBeforeReady + 1)) + "%";
        if (!done) {
            ex.getResponseHeaders().set("Retry-After", String.valueOf(retryAfterSeconds));
            ex.getResponseHeaders().set("X-Progress", progress);
        }
        if (plain) {
            if (done) {
                sendJson(ex, 200, "{" + manifestFields(job) + "}");
            } else {
                send(ex, 202, null, new byte[0]);
            }
            return;
        }
        String envelope = "{" + meta() + ",\"status\":" + (done ? 200 : 202) + ",\"progress\":"
                + (progress == null ? "null" : "\"" + progress + "\"")
                + "," + (done ? manifestFields(job) : "\"output\":[]") + "}";
        sendJson(ex, done || alwaysHttp200 ? 200 : 202, envelope);
    }

    private String meta() {
        String logId = UUID.randomUUID().toString();
        logIds.add(logId);
        return "\"Meta\":{\"DataModel\":\"FHIR Bulk Data Access\",\"EventType\":\"status-check-response\","
                + "\"EventDateTime\":\"" + Instant.now() + "\",\"Test\":true,\"Source\":{\"ID\":"
                + "\"7ce6f387-c33c-417d-8682-81e83628cbd9\",\"Name\":\"Redox Dev Tools\"},\"Destinations\":[{\"ID\":"
                + "\"af394f14-b34a-464f-8d24-895f370af4c9\",\"Name\":\"Redox EMR\"}],\"Logs\":[{\"ID\":\"" + logId
                + "\",\"AttemptID\":\"" + UUID.randomUUID() + "\"}],\"FacilityCode\":null}";
    }

    /** A manifest's fields, without its braces: the plain answer wraps them, the envelope carries them beside its own. */
    private String manifestFields(Job job) {
        List<String> output = new ArrayList<>();
        for (String type : job.types) {
            output.add("{\"type\":\"" + type + "\",\"url\":\"" + job.base + "BulkStatus/" + job.id + "/"
                    + type.toLowerCase() + "-file-001.ndjson.gz\"}");
        }
        if (externalFile) {
            output.add("{\"type\":\"Observation\",\"url\":\"" + external.baseUrl() + "/exports/" + job.id
                    + "/observation-file-001.ndjson.gz?sig=sandbox\"}");
        }
        return "\"transactionTime\":\"" + Instant.now() + "\",\"request\":\"" + job.request + "\","
                + "\"requiresAccessToken\":true,\"output\":[" + String.join(",", output) + "]";
    }

    private void file(HttpExchange ex, String id, String name) throws IOException {
        Job job = jobs.get(id);
        String type = name.contains("-file-") ? name.substring(0, name.indexOf("-file-")) : "";
        String match = job == null ? null : job.types.stream().filter(t -> t.equalsIgnoreCase(type)).findFirst().orElse(null);
        if (match == null) {
            sendJson(ex, 404, FhirBulkSandbox.outcome("not-found", "No such file"));
            return;
        }
        serveGzip(ex, content(match), fileDelayMillis);
    }

    static void serveGzip(HttpExchange ex, byte[] ndjson, long delay) throws IOException {
        if (delay > 0) {
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        ByteArrayOutputStream zipped = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(zipped)) {
            z.write(ndjson);
        }
        // an .ndjson.gz object: gzip bytes as they are stored, no Content-Encoding
        send(ex, 200, "application/gzip", zipped.toByteArray());
    }

    private boolean authorized(HttpExchange ex) throws IOException {
        String header = ex.getRequestHeaders().getFirst("Authorization");
        String token = header != null && header.startsWith("Bearer ") ? header.substring(7).trim() : null;
        Instant until = token == null ? null : tokens.get(token);
        if (until != null && Instant.now().isBefore(until)) {
            return true;
        }
        if (until != null) {
            expiredTokenRefusals.incrementAndGet();
        }
        sendJson(ex, 401, FhirBulkSandbox.outcome(until != null ? "expired" : "login",
                until != null ? "The access token has expired" : "Missing or invalid access token"));
        return false;
    }

    private void token(HttpExchange ex, String body) throws IOException {
        String type = String.valueOf(ex.getRequestHeaders().getFirst("Content-Type"));
        if (!ex.getRequestMethod().equals("POST") || !type.startsWith("application/x-www-form-urlencoded")) {
            tokenError(ex, 400, "invalid_request", "x-www-form-urlencoded content-type required");
            return;
        }
        Map<String, String> form = FhirBulkSandbox.query(body);
        if (!form.containsKey("grant_type")) {
            tokenError(ex, 400, "invalid_request", "Missing grant_type parameter");
        } else if (!form.get("grant_type").equals("client_credentials")) {
            tokenError(ex, 400, "unsupported_grant_type", "The grant_type parameter should equal 'client_credentials'");
        } else if (!form.containsKey("client_assertion_type")) {
            tokenError(ex, 400, "invalid_request", "Missing client assertion type");
        } else if (!form.get("client_assertion_type").equals("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")) {
            tokenError(ex, 400, "invalid_request", "Invalid client assertion type");
        } else if (!form.containsKey("client_assertion")) {
            tokenError(ex, 400, "invalid_request", "Missing client assertion");
        } else {
            SandboxJwt.Result r = jwt.check(form.get("client_assertion"), tokenUrl(),
                    "JWT header kid property is required",
                    "Public key not found, check client_id, kid and Redox dashboard settings");
            if (!r.ok()) {
                tokenError(ex, 401, r.error(), r.description());
                return;
            }
            String token = "redox-sandbox-" + UUID.randomUUID();
            tokens.put(token, Instant.now().plusSeconds(tokenLifetimeSeconds));
            tokenClients.put(token, r.clientId());
            tokensByClient.computeIfAbsent(r.clientId(), k -> new AtomicInteger()).incrementAndGet();
            sendJson(ex, 200, "{\"access_token\":\"" + token + "\",\"token_type\":\"Bearer\",\"expires_in\":"
                    + tokenLifetimeSeconds + ",\"scope\":\"" + form.getOrDefault("scope", "") + "\"}");
        }
    }

    private static void tokenError(HttpExchange ex, int code, String error, String description) throws IOException {
        sendJson(ex, code, "{\"error\":\"" + error + "\",\"error_description\":\"" + description + "\"}");
    }

    /** Storage on another origin (a pass-through file server): refuses a bearer token, serves by capability URL. */
    private static final class Storage extends SandboxServer {
        Storage(String host) {
            super(host, 0);
        }

        @Override
        protected ScriptedFaults.Aim aim(HttpExchange ex) {
            return ex.getRequestMethod().equals("GET") ? ScriptedFaults.Aim.FILE : null;
        }

        @Override
        protected void handle(HttpExchange ex, String body) throws IOException {
            if (ex.getRequestHeaders().containsKey("Authorization")) {
                send(ex, 400, "text/plain", "Authorization not allowed on capability URLs".getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (!String.valueOf(ex.getRequestURI().getRawQuery()).contains("sig=")) {
                send(ex, 403, "text/plain", "Forbidden".getBytes(StandardCharsets.UTF_8));
                return;
            }
            serveGzip(ex, content("Observation"), 0);
        }
    }
}
