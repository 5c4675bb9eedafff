package org.healthexport.relay.sandbox;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import com.sun.net.httpserver.HttpExchange;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;

/**
 * Oracle Health Millennium FHIR R4 Bulk Data as its documentation describes it, for the demo and the tests.
 * <ul>
 *   <li>{@code /r4/{tenant}/metadata} names the token endpoint in the SMART oauth-uris extension;
 *       {@code /tenants/{tenant}/protocols/oauth2/profiles/smart-v1/token} issues system-account tokens for a
 *       client secret in a Basic header or a signed JWT (kid, signature, aud, exp, jti checked), scopes required.</li>
 *   <li>Kick-off {@code GET /r4/{tenant}/Group/{id}/$export} and {@code POST /r4/{tenant}/Patient/$export}
 *       ({@code Parameters} with patient references): bearer token, {@code Accept: application/fhir+json}
 *       (else 406, empty body), the supported parameters only (400 invalid), a read scope for every type (403);
 *       <b>429 throttled while an export of the same client and tenant is in progress</b>; 202 with
 *       Content-Location {@code .../bulk-export/jobs/{Job_ID}}.</li>
 *   <li>Status: 202 {@code X-Progress: in-progress} with {@code Retry-After} (600 s unless configured) for a few
 *       polls, a poll before the wait is up counted and answered 429; then 200 with {@code Expires} 30 days after
 *       the export and a manifest with output and error files. Status and files only for the client that started
 *       the export (403). {@code opc-request-id} and {@code X-Request-Id} on every answer.</li>
 *   <li>Files: {@code GET .../bulk-export/files/{id}} answers 307 to a presigned link on another origin
 *       ("S3"), which refuses any Authorization header (400), a bad signature (403) and a link past its
 *       {@code X-Amz-Expires} (403 "Request has expired").</li>
 *   <li>{@code DELETE .../bulk-export/jobs/{id}}: 202; the job and its files are gone (404) afterwards.</li>
 * </ul>
 * Faults on demand: throttled kick-offs, presigned links issued already expired, files past their 30 days,
 * exports started by someone else (for adoption and throttling); and the scripted faults of {@link #faults()}
 * (status polls; file bodies, which come from the presigned storage).
 */
public class OracleHealthSandbox extends SandboxServer {
    public static final String TENANT = "ec2458f2-1e24-41c8-b71b-0e701af7583d";
    /** The documented sandbox groups: 3 and 10 patients. */
    public static final String GROUP_3 = "11ec-d16a-c763b73e-98e8-a31715e6a2bf";
    public static final String GROUP_10 = "11ec-d16a-b40370f8-9d31-577f11a339c5";
    static final Set<String> EXPORTABLE = Set.of("AllergyIntolerance", "CarePlan", "CareTeam", "Condition", "Device",
            "DiagnosticReport", "DocumentReference", "Encounter", "Goal", "Immunization", "Location",
            "MedicationRequest", "Patient", "Procedure", "Observation", "Organization", "Practitioner", "Provenance");
    static final Set<String> SUPPORTED = Set.of("_type", "_typeFilter", "_since", "includeAssociatedData",
            "_outputFormat", "patient");
    private static final Duration RETENTION = Duration.ofDays(30);
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private final Storage storage;
    private final SandboxJwt jwt = new SandboxJwt();
    private final Map<String, String> secrets = new ConcurrentHashMap<>();
    private final Map<String, Token> tokens = new ConcurrentHashMap<>();
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final Map<String, ExportFile> files = new ConcurrentHashMap<>();
    private final List<String> requestIds = new CopyOnWriteArrayList<>();
    private final AtomicInteger throttleNext = new AtomicInteger();
    private final AtomicInteger expireNextLinks = new AtomicInteger();
    private final AtomicInteger earlyPolls = new AtomicInteger();
    private final AtomicInteger tokensIssued = new AtomicInteger();
    private final byte[] signingKey = new byte[32];
    private volatile int retryAfterSeconds = 600;
    private volatile int throttleRetryAfterSeconds;
    private volatile int pollsBeforeReady = 2;
    private volatile int tokenLifetimeSeconds = 570;
    private volatile int presignedSeconds = 300;

    public OracleHealthSandbox(String host, int port) {
        super(host, port);
        this.storage = sharingFaults(new Storage(host));
        new SecureRandom().nextBytes(signingKey);
    }

    record Token(String client, Set<String> scopes, Instant expires) { }

    /** One export file: where it belongs, and its bytes (the same for every fetch). */
    public record ExportFile(String id, String jobId, String group, String type, byte[] content) { }

    static final class Job {
        final String id;
        final String tenant;
        final String client;
        final String request;
        final List<String> types;
        final int patients;
        final AtomicInteger polls = new AtomicInteger();
        final List<String> fileIds = new CopyOnWriteArrayList<>();
        volatile Instant created = Instant.now();
        volatile Instant readyAt;
        volatile Instant notBefore = Instant.MIN;
        volatile boolean complete;
        volatile boolean deleted;

        Job(String id, String tenant, String client, String request, List<String> types, int patients) {
            this.id = id;
            this.tenant = tenant;
            this.client = client;
            this.request = request;
            this.types = types;
            this.patients = patients;
        }

        boolean isComplete() {
            return complete || (readyAt != null && !Instant.now().isBefore(readyAt));
        }

        boolean expired() {
            return Instant.now().isAfter(created.plus(RETENTION));
        }
    }

    // ---- settings and faults -------------------------------------------------------------------------------

    public OracleHealthSandbox retryAfterSeconds(int s) { this.retryAfterSeconds = s; return this; }
    /** Retry-After on a throttled kick-off (0: none, as Oracle's documentation shows none). */
    public OracleHealthSandbox throttleRetryAfterSeconds(int s) { this.throttleRetryAfterSeconds = s; return this; }
    public OracleHealthSandbox pollsBeforeReady(int n) { this.pollsBeforeReady = n; return this; }
    public OracleHealthSandbox tokenLifetimeSeconds(int s) { this.tokenLifetimeSeconds = s; return this; }
    public OracleHealthSandbox presignedSeconds(int s) { this.presignedSeconds = s; return this; }
    /** A system account authenticating with its secret in a Basic header. */
    public OracleHealthSandbox registerClient(String clientId, String secret) { secrets.put(clientId, secret); return this; }
    /** A system account authenticating with a JWT signed by the key whose public half (with its kid) is given. */
    public OracleHealthSandbox registerClient(String clientId, JWK publicKey) { jwt.register(clientId, publicKey); return this; }
    /** The next {@code n} kick-offs answer 429 throttled, whatever runs. */
    public void throttleNextKickoffs(int n) { throttleNext.set(n); }
    /** The next {@code n} presigned links are issued already past their X-Amz-Expires. */
    public void expireNextLinks(int n) { expireNextLinks.set(n); }
    /** Moves the export 31 days back: its Expires has passed and its files are deleted. */
    public void expireFiles(String jobId) { Job j = jobs.get(jobId); if (j != null) { j.created = Instant.now().minus(Duration.ofDays(31)); } }
    /** Invalidates every token issued so far. */
    public void revokeTokens() { tokens.clear(); }

    /** An export started outside the relay by {@code client}, complete after {@code runFor}. */
    public String startExport(String client, String tenant, String group, List<String> types, Duration runFor) {
        String id = UUID.randomUUID().toString();
        Job job = new Job(id, tenant, client, fhirBase(tenant) + "Group/" + group + "/$export", types, patientsOf(group));
        job.readyAt = Instant.now().plus(runFor);
        jobs.put(id, job);
        return id;
    }

    public String fhirBase(String tenant) { return baseUrl() + "/r4/" + tenant + "/"; }
    public String tokenUrl(String tenant) { return baseUrl() + "/tenants/" + tenant + "/protocols/oauth2/profiles/smart-v1/token"; }
    public String storageOrigin() { return storage.baseUrl(); }
    public List<RecordedRequest> storageRequests() { return storage.requests(); }
    public int earlyPolls() { return earlyPolls.get(); }
    public int tokensIssued() { return tokensIssued.get(); }
    public List<String> requestIds() { return List.copyOf(requestIds); }
    public List<String> jobIds() { return List.copyOf(jobs.keySet()); }
    public boolean isDeleted(String jobId) { Job j = jobs.get(jobId); return j != null && j.deleted; }
    public String clientOf(String jobId) { return jobs.get(jobId).client; }
    /** The files of an export (known once it completed), in manifest order. */
    public List<ExportFile> files(String jobId) { return jobs.get(jobId).fileIds.stream().map(files::get).toList(); }

    @Override
    protected void doStart() throws IOException {
        super.doStart();
        storage.start();
    }

    @Override
    protected void doStop() {
        storage.stop();
        super.doStop();
    }

    // ---- the API -------------------------------------------------------------------------------------------

    /**
     * Kick-offs ({@code Group/{id}/$export}, {@code Patient/$export}) and status polls of
     * {@code bulk-export/jobs/{id}}; file bodies come from the presigned storage (its own {@link Storage#aim}), so
     * the 307 of {@code bulk-export/files/{id}} is not aimed at.
     */
    @Override
    protected ScriptedFaults.Aim aim(HttpExchange ex) {
        String path = ex.getRequestURI().getPath();
        if (path.startsWith("/r4/") && path.endsWith("/$export")) {
            return ScriptedFaults.Aim.KICKOFF;
        }
        String[] p = path.substring(1).split("/");
        return ex.getRequestMethod().equals("GET") && p.length == 5 && p[0].equals("r4") && p[2].equals("bulk-export")
                && p[3].equals("jobs") ? ScriptedFaults.Aim.STATUS : null;
    }

    @Override
    protected void handle(HttpExchange ex, String body) throws IOException {
        String requestId = UUID.randomUUID().toString().replace("-", "").toUpperCase() + "/" + requestIds.size();
        requestIds.add(requestId);
        ex.getResponseHeaders().set("opc-request-id", requestId);
        ex.getResponseHeaders().set("X-Request-Id", requestId);
        String path = ex.getRequestURI().getPath();
        String[] p = path.substring(1).split("/");
        if (p.length == 7 && p[0].equals("tenants") && path.endsWith("/protocols/oauth2/profiles/smart-v1/token")) {
            token(ex, p[1], body);
            return;
        }
        if (p.length < 3 || !p[0].equals("r4")) {
            outcome(ex, 404, "not-found", "Unknown path");
            return;
        }
        String tenant = p[1];
        String rest = String.join("/", Arrays.copyOfRange(p, 2, p.length));
        String method = ex.getRequestMethod();
        if (rest.equals("metadata")) {
            sendJson(ex, 200, capabilityStatement(tenant));
        } else if (rest.matches("Group/[^/]+/\\$export")) {
            if (!method.equals("GET")) {
                outcome(ex, 405, "not-supported", "Group export is GET only");
            } else {
                kickoff(ex, tenant, p[3], body);
            }
        } else if (rest.equals("Patient/$export")) {
            if (!method.equals("POST")) {
                outcome(ex, 405, "not-supported", "Patient export is POST only");
            } else {
                kickoff(ex, tenant, null, body);
            }
        } else if (rest.startsWith("bulk-export/jobs/") && p.length == 5) {
            job(ex, tenant, p[4]);
        } else if (rest.startsWith("bulk-export/files/") && p.length == 5) {
            file(ex, tenant, p[4]);
        } else {
            outcome(ex, 404, "not-found", "Unknown resource " + rest);
        }
    }

    private void kickoff(HttpExchange ex, String tenant, String group, String body) throws IOException {
        Token token = authorized(ex);
        if (token == null || !accepts(ex, "application/fhir+json")) {
            return;
        }
        Map<String, List<String>> params = query(ex.getRequestURI().getRawQuery());
        if (group == null) {
            String type = String.valueOf(ex.getRequestHeaders().getFirst("Content-Type"));
            if (!type.startsWith("application/fhir+json") && !type.startsWith("application/json")) {
                outcome(ex, 415, "invalid", "Content-Type must be application/fhir+json");
                return;
            }
            parameters(body).forEach((k, v) -> params.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
        }
        boolean lenient = String.valueOf(ex.getRequestHeaders().getFirst("Prefer")).contains("handling=lenient");
        for (String name : params.keySet()) {
            if (!SUPPORTED.contains(name) && !lenient) {
                outcome(ex, 400, "invalid", "Unsupported parameter " + name);
                return;
            }
        }
        List<String> patients = params.getOrDefault("patient", List.of());
        if (group != null && !patients.isEmpty()) {
            outcome(ex, 400, "invalid", "The patient parameter is not supported for Group export");
            return;
        }
        if (group == null && patients.isEmpty()) {
            outcome(ex, 400, "invalid", "Patient export requires at least one patient parameter");
            return;
        }
        List<String> types = new ArrayList<>();
        for (String t : params.getOrDefault("_type", List.of())) {
            if (!EXPORTABLE.contains(t)) {
                outcome(ex, 400, "invalid", "Unsupported _type " + t);
                return;
            }
            if (!token.scopes().contains("system/" + t + ".read") && !token.scopes().contains("system/" + t + ".rs")) {
                outcome(ex, 403, "forbidden", "The token has no system read scope for " + t);
                return;
            }
            types.add(t);
        }
        if (types.isEmpty()) {
            token.scopes().stream().filter(s -> s.startsWith("system/")).map(s -> s.substring(7, s.indexOf('.')))
                    .filter(EXPORTABLE::contains).forEach(types::add);
        }
        if (group != null && !group.equals(GROUP_3) && !group.equals(GROUP_10)) {
            outcome(ex, 404, "not-found", "Group " + group + " not found");
            return;
        }
        if (throttleNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0 || runningFor(token.client(), tenant)) {
            if (throttleRetryAfterSeconds > 0) {
                ex.getResponseHeaders().set("Retry-After", String.valueOf(throttleRetryAfterSeconds));
            }
            outcome(ex, 429, "throttled", "An export job is already in progress for this client and tenant");
            return;
        }
        String id = UUID.randomUUID().toString();
        String request = fhirBase(tenant) + (group == null ? "Patient/$export" : "Group/" + group + "/$export")
                + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery());
        jobs.put(id, new Job(id, tenant, token.client(), request, List.copyOf(types),
                group == null ? patients.size() : patientsOf(group)));
        ex.getResponseHeaders().set("Content-Location", fhirBase(tenant) + "bulk-export/jobs/" + id);
        send(ex, 202, null, new byte[0]);
    }

    private boolean runningFor(String client, String tenant) {
        return jobs.values().stream().anyMatch(j -> j.client.equals(client) && j.tenant.equals(tenant) && !j.deleted
                && !j.isComplete());
    }

    private void job(HttpExchange ex, String tenant, String id) throws IOException {
        Token token = authorized(ex);
        if (token == null || !accepts(ex, "application/fhir+json")) {
            return;
        }
        Job job = jobs.get(id);
        if (job == null || job.deleted || !job.tenant.equals(tenant)) {
            outcome(ex, 404, "not-found", "Export job " + id + " not found");
            return;
        }
        if (!job.client.equals(token.client())) {
            outcome(ex, 403, "forbidden", "The export job belongs to another client");
            return;
        }
        if (ex.getRequestMethod().equals("DELETE")) {
            job.deleted = true;
            send(ex, 202, null, new byte[0]);
            return;
        }
        if (!ex.getRequestMethod().equals("GET")) {
            outcome(ex, 405, "not-supported", "GET or DELETE");
            return;
        }
        Instant now = Instant.now();
        if (!job.isComplete()) {
            if (now.isBefore(job.notBefore)) {
                earlyPolls.incrementAndGet();
                ex.getResponseHeaders().set("Retry-After",
                        String.valueOf(Math.max(1, Duration.between(now, job.notBefore).toSeconds())));
                outcome(ex, 429, "throttled", "Too Many Requests");
                return;
            }
            if (job.readyAt != null || job.polls.incrementAndGet() <= pollsBeforeReady) {
                job.notBefore = now.plusSeconds(retryAfterSeconds).minusMillis(100);
                ex.getResponseHeaders().set("X-Progress", "in-progress");
                ex.getResponseHeaders().set("Retry-After", String.valueOf(retryAfterSeconds));
                send(ex, 202, null, new byte[0]);
                return;
            }
            job.complete = true;
        }
        ex.getResponseHeaders().set("Expires", DateTimeFormatter.RFC_1123_DATE_TIME
                .format(job.created.plus(RETENTION).atZone(ZoneOffset.UTC)));
        sendJson(ex, 200, manifest(job));
    }

    private synchronized String manifest(Job job) {
        if (job.fileIds.isEmpty()) {
            for (String type : job.types) {
                if (type.equals("Patient")) {
                    String[] lines = new String(SandboxData.patients(job.patients), StandardCharsets.UTF_8).split("(?<=\n)");
                    int half = (lines.length + 1) / 2;
                    addFile(job, "output", "Patient", String.join("", Arrays.copyOfRange(lines, 0, half)));
                    if (lines.length > half) {
                        addFile(job, "output", "Patient", String.join("", Arrays.copyOfRange(lines, half, lines.length)));
                    }
                } else if (type.equals("Observation")) {
                    addFile(job, "output", "Observation",
                            new String(SandboxData.observations(job.patients, 0), StandardCharsets.UTF_8));
                }
            }
            addFile(job, "error", "OperationOutcome", new String(SandboxData.errors(), StandardCharsets.UTF_8));
        }
        List<String> output = new ArrayList<>();
        List<String> error = new ArrayList<>();
        for (String fileId : job.fileIds) {
            ExportFile f = files.get(fileId);
            String entry = "{\"type\":\"" + f.type() + "\",\"url\":\"" + fhirBase(job.tenant) + "bulk-export/files/"
                    + f.id() + "\"}";
            (f.group().equals("error") ? error : output).add(entry);
        }
        return "{\"transactionTime\":\"" + job.created + "\",\"request\":\"" + job.request + "\","
                + "\"requiresAccessToken\":true,\"output\":[" + String.join(",", output) + "],\"error\":["
                + String.join(",", error) + "]}";
    }

    private void addFile(Job job, String group, String type, String content) {
        String id = UUID.randomUUID().toString();
        files.put(id, new ExportFile(id, job.id, group, type, content.getBytes(StandardCharsets.UTF_8)));
        job.fileIds.add(id);
    }

    private void file(HttpExchange ex, String tenant, String id) throws IOException {
        Token token = authorized(ex);
        if (token == null) {
            return;
        }
        ExportFile f = files.get(id);
        Job job = f == null ? null : jobs.get(f.jobId());
        if (job == null || job.deleted || job.expired() || !job.tenant.equals(tenant)) {
            outcome(ex, 404, "not-found", "File " + id + " not found");
            return;
        }
        if (!job.client.equals(token.client())) {
            outcome(ex, 403, "forbidden", "The file belongs to another client");
            return;
        }
        if (f.group().equals("output") && !token.scopes().contains("system/" + f.type() + ".read")
                && !token.scopes().contains("system/" + f.type() + ".rs")) {
            outcome(ex, 403, "forbidden", "The token has no system read scope for " + f.type());
            return;
        }
        ex.getResponseHeaders().set("Location", presign(job, f));
        send(ex, 307, null, new byte[0]);
    }

    private String presign(Job job, ExportFile f) {
        Instant date = Instant.now();
        if (expireNextLinks.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            date = date.minusSeconds(presignedSeconds + 60L);
        }
        String path = "/cerner-bulk-export/" + job.tenant + "/" + job.id + "/" + f.id();
        String amzDate = AMZ_DATE.format(date);
        String credential = URLEncoder.encode("ASIASANDBOXKEY/" + amzDate.substring(0, 8) + "/us-west-2/s3/aws4_request",
                StandardCharsets.UTF_8);
        return storage.baseUrl() + path + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + credential
                + "&X-Amz-Date=" + amzDate + "&X-Amz-Expires=" + presignedSeconds
                + "&X-Amz-SignedHeaders=host&X-Amz-Security-Token=sandbox-session&X-Amz-Signature="
                + sign(path, amzDate, String.valueOf(presignedSeconds));
    }

    private String sign(String path, String date, String expires) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(signingKey, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal((path + "\n" + date + "\n" + expires).getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- auth ----------------------------------------------------------------------------------------------

    private String capabilityStatement(String tenant) {
        return "{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\",\"kind\":\"instance\",\"fhirVersion\":"
                + "\"4.0.1\",\"format\":[\"json\"],\"rest\":[{\"mode\":\"server\",\"security\":{\"extension\":[{\"url\":"
                + "\"http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris\",\"extension\":["
                + "{\"url\":\"token\",\"valueUri\":\"" + tokenUrl(tenant) + "\"},{\"url\":\"authorize\",\"valueUri\":\""
                + baseUrl() + "/tenants/" + tenant + "/protocols/oauth2/profiles/smart-v1/personas/provider/authorize\"}]}],"
                + "\"service\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/restful-security-service\","
                + "\"code\":\"SMART-on-FHIR\"}]}]}}]}";
    }

    private void token(HttpExchange ex, String tenant, String body) throws IOException {
        if (!ex.getRequestMethod().equals("POST")) {
            sendJson(ex, 405, "{\"error\":\"invalid_request\"}");
            return;
        }
        String type = String.valueOf(ex.getRequestHeaders().getFirst("Content-Type"));
        if (!type.startsWith("application/x-www-form-urlencoded")) {
            sendJson(ex, 400, "{\"error\":\"invalid_request\",\"error_description\":\"Content-Type must be "
                    + "application/x-www-form-urlencoded\"}");
            return;
        }
        Map<String, String> form = FhirBulkSandbox.query(body);
        if (!"client_credentials".equals(form.get("grant_type"))) {
            sendJson(ex, 400, "{\"error\":\"unsupported_grant_type\"}");
            return;
        }
        String client = null;
        String basic = ex.getRequestHeaders().getFirst("Authorization");
        if (basic != null && basic.startsWith("Basic ")) {
            String[] pair = new String(Base64.getDecoder().decode(basic.substring(6).trim()), StandardCharsets.UTF_8)
                    .split(":", 2);
            String id = URLDecoder.decode(pair[0], StandardCharsets.UTF_8);
            if (pair.length == 2 && URLDecoder.decode(pair[1], StandardCharsets.UTF_8).equals(secrets.get(id))) {
                client = id;
            }
        } else if ("urn:ietf:params:oauth:client-assertion-type:jwt-bearer".equals(form.get("client_assertion_type"))
                && form.containsKey("client_assertion")) {
            SandboxJwt.Result r = jwt.check(form.get("client_assertion"), tokenUrl(tenant),
                    "kid is required", "unknown client or key");
            if (!r.ok()) {
                sendJson(ex, 401, "{\"error\":\"" + r.error() + "\",\"error_description\":\"" + r.description() + "\"}");
                return;
            }
            client = r.clientId();
        }
        if (client == null) {
            sendJson(ex, 401, "{\"error\":\"invalid_client\",\"error_description\":\"client authentication failed\"}");
            return;
        }
        String scope = form.get("scope");
        if (scope == null || scope.isBlank()) {
            sendJson(ex, 400, "{\"error\":\"invalid_scope\",\"error_description\":\"scope is required\"}");
            return;
        }
        String access = "oracle-sandbox-" + tokensIssued.incrementAndGet() + "-" + UUID.randomUUID();
        tokens.put(access, new Token(client, new LinkedHashSet<>(List.of(scope.trim().split("\\s+"))),
                Instant.now().plusSeconds(tokenLifetimeSeconds)));
        sendJson(ex, 200, "{\"access_token\":\"" + access + "\",\"scope\":\"" + scope.trim() + "\",\"token_type\":"
                + "\"Bearer\",\"expires_in\":" + tokenLifetimeSeconds + "}");
    }

    private Token authorized(HttpExchange ex) throws IOException {
        String header = ex.getRequestHeaders().getFirst("Authorization");
        Token token = header != null && header.startsWith("Bearer ") ? tokens.get(header.substring(7).trim()) : null;
        if (token == null) {
            outcome(ex, 401, "login", "Invalid or missing credentials");
            return null;
        }
        if (!Instant.now().isBefore(token.expires())) {
            outcome(ex, 401, "expired", "The access token has expired");
            return null;
        }
        return token;
    }

    /** 406 with an empty body, as Oracle answers an unsupported Accept. */
    private boolean accepts(HttpExchange ex, String type) throws IOException {
        String accept = ex.getRequestHeaders().getFirst("Accept");
        if (accept != null && accept.contains(type)) {
            return true;
        }
        send(ex, 406, null, new byte[0]);
        return false;
    }

    private static void outcome(HttpExchange ex, int code, String issue, String text) throws IOException {
        send(ex, code, "application/fhir+json", FhirBulkSandbox.outcome(issue, text).getBytes(StandardCharsets.UTF_8));
    }

    static int patientsOf(String group) {
        return GROUP_10.equals(group) ? 10 : 3;
    }

    private static Map<String, List<String>> query(String raw) {
        Map<String, List<String>> params = new LinkedHashMap<>();
        FhirBulkSandbox.query(raw).forEach((k, v) -> params.put(k, new ArrayList<>(List.of(v.split(",")))));
        return params;
    }

    private static Map<String, List<String>> parameters(String body) {
        Map<String, List<String>> params = new LinkedHashMap<>();
        try {
            var root = new ObjectMapper().readTree(body);
            for (var p : root.path("parameter")) {
                String value = p.has("valueReference") ? p.path("valueReference").path("reference").asText()
                        : p.has("valueInstant") ? p.path("valueInstant").asText() : p.path("valueString").asText();
                params.computeIfAbsent(p.path("name").asText(), k -> new ArrayList<>()).add(value);
            }
        } catch (IOException ignored) {
            // an empty body is a kick-off without parameters
        }
        return params;
    }

    // ---- the presigned storage -----------------------------------------------------------------------------

    private final class Storage extends SandboxServer {
        Storage(String host) {
            super(host, 0);
        }

        @Override
        protected ScriptedFaults.Aim aim(HttpExchange ex) {
            return ex.getRequestMethod().equals("GET") ? ScriptedFaults.Aim.FILE : null;
        }

        @Override
        protected void handle(HttpExchange ex, String body) throws IOException {
            ex.getResponseHeaders().set("x-amz-request-id", UUID.randomUUID().toString());
            if (ex.getRequestHeaders().containsKey("Authorization")) {
                s3Error(ex, 400, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
                        + "parameter, Signature query string parameter or the Authorization header should be specified");
                return;
            }
            Map<String, String> q = FhirBulkSandbox.query(ex.getRequestURI().getRawQuery());
            String path = ex.getRequestURI().getPath();
            String date = q.get("X-Amz-Date");
            String expires = q.get("X-Amz-Expires");
            String signature = q.get("X-Amz-Signature");
            if (date == null || expires == null || signature == null) {
                s3Error(ex, 403, "AccessDenied", "Access Denied");
                return;
            }
            if (!sign(path, date, expires).equals(signature)) {
                s3Error(ex, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match");
                return;
            }
            Instant issued = AMZ_DATE.parse(date, Instant::from);
            if (Instant.now().isAfter(issued.plusSeconds(Long.parseLong(expires)))) {
                s3Error(ex, 403, "AccessDenied", "Request has expired");
                return;
            }
            String[] parts = path.split("/");
            ExportFile f = files.get(parts[parts.length - 1]);
            Job job = f == null ? null : jobs.get(f.jobId());
            if (job == null || job.deleted || job.expired()) {
                s3Error(ex, 404, "NoSuchKey", "The specified key does not exist.");
                return;
            }
            if (String.valueOf(ex.getRequestHeaders().getFirst("Accept-Encoding")).contains("gzip")) {
                ByteArrayOutputStream zipped = new ByteArrayOutputStream();
                try (GZIPOutputStream z = new GZIPOutputStream(zipped)) {
                    z.write(f.content());
                }
                ex.getResponseHeaders().set("Content-Encoding", "gzip");
                send(ex, 200, "application/fhir+ndjson", zipped.toByteArray());
            } else {
                send(ex, 200, "application/fhir+ndjson", f.content());
            }
        }

        private void s3Error(HttpExchange ex, int code, String s3Code, String message) throws IOException {
            send(ex, code, "application/xml", ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + s3Code
                    + "</Code><Message>" + message + "</Message></Error>").getBytes(StandardCharsets.UTF_8));
        }
    }
}
