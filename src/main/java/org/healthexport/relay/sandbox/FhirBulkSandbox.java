package org.healthexport.relay.sandbox;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;
import javax.net.ssl.SSLContext;

/**
 * A FHIR Bulk Data server as the IG describes it, for the demo and the tests: kick-off at system, Patient or
 * Group level (GET or POST), 202 with X-Progress and Retry-After for a few polls, then a manifest with output,
 * error and deleted files; gzip when asked; DELETE; one file served through a 307 to a "presigned" storage
 * server on another origin that refuses any Authorization header; optional OAuth (client secret or SMART
 * private_key_jwt); and faults on demand: the {@link ScriptedFaults} every sandbox takes (its kick-offs, status
 * polls and file answers are aimed at) and the ones only Bulk Data has (expired files, expired presigned links).
 */
public class FhirBulkSandbox extends SandboxServer {
    public static final String BASE_PATH = "/fhir";
    private static final Logger LOG = LoggerFactory.getLogger(FhirBulkSandbox.class);
    private final Storage storage;
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    /** Presigned links to refuse as expired, by file name: how many fetches are left to refuse. */
    private final Map<String, Integer> expiredLinks = new ConcurrentHashMap<>();
    private final Map<String, Instant> issuedTokens = new ConcurrentHashMap<>();
    private final Map<String, String> clientSecrets = new ConcurrentHashMap<>();
    private final Map<String, JWK> clientKeys = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    /**
     * Part of every export id: a server's export ids stay unique across its restarts, and a test's store outlives
     * the sandbox (a later sandbox on a reused port would otherwise hand out a status URL an ended job still has).
     */
    private final String instance = Long.toHexString(new SecureRandom().nextInt() & 0xffffffffL);
    private volatile int pollsBeforeReady = 2;
    private volatile int retryAfterSeconds = 1;
    private volatile int patients = 10;
    private volatile long bigFileBytes;
    private volatile long bigFileBytesPerSecond;
    private volatile int smallFiles;
    private volatile int tokenLifetimeSeconds = 300;
    private volatile String staticToken;
    private volatile boolean oauth;
    private volatile String extraOutputUrl;
    private final Map<String, byte[]> extraFiles = new ConcurrentSkipListMap<>();
    private volatile Duration fileDelay = Duration.ZERO;
    private final Map<String, CountDownLatch> heldLevels = new ConcurrentHashMap<>();
    private final Map<String, FileConcurrency> fileConcurrency = new ConcurrentHashMap<>();

    public FhirBulkSandbox(String host, int port) {
        super(host, port);
        this.storage = sharingFaults(new Storage(host));
    }

    private static final class Job {
        final String id;
        final String level;
        final String request;
        final Set<String> types;
        final boolean since;
        final AtomicInteger polls = new AtomicInteger();
        volatile boolean deleted;
        volatile boolean expired;

        Job(String id, String level, String request, Set<String> types, boolean since) {
            this.id = id;
            this.level = level;
            this.request = request;
            this.types = types;
            this.since = since;
        }
    }

    /** File requests being answered at once, and the most seen, for the exports of one kick-off level. */
    private static final class FileConcurrency {
        final AtomicInteger now = new AtomicInteger();
        final AtomicInteger max = new AtomicInteger();
    }

    // ---- settings and faults, for the demo configuration and the tests --------------------------------------

    public FhirBulkSandbox pollsBeforeReady(int n) { this.pollsBeforeReady = n; return this; }
    public FhirBulkSandbox retryAfterSeconds(int s) { this.retryAfterSeconds = s; return this; }
    public FhirBulkSandbox patients(int n) { this.patients = n; return this; }
    /** Makes Observation-1 a large file of about this many bytes (benchmarks). */
    public FhirBulkSandbox bigFileBytes(long n) { this.bigFileBytes = n; return this; }
    /** Serves the large file no faster than this (a slow server; a delivery long enough to be interrupted). */
    public FhirBulkSandbox bigFileBytesPerSecond(long n) { this.bigFileBytesPerSecond = n; return this; }
    /** Lists this many more small Observation files ({@code Small-<n>.ndjson}) in every manifest (benchmarks). */
    public FhirBulkSandbox smallFiles(int n) { this.smallFiles = n; return this; }
    /** Requires this bearer token on status and file requests. */
    public FhirBulkSandbox requireToken(String token) { this.staticToken = token; return this; }
    /** Requires tokens issued by the sandbox's own token endpoint to this client (secret). */
    public FhirBulkSandbox registerClient(String clientId, String secret) { clientSecrets.put(clientId, secret); oauth = true; return this; }
    /** Requires tokens issued to this client for a private_key_jwt signed with the key whose public half is given. */
    public FhirBulkSandbox registerClient(String clientId, JWK publicKey) { clientKeys.put(clientId, publicKey); oauth = true; return this; }
    public FhirBulkSandbox tokenLifetimeSeconds(int s) { this.tokenLifetimeSeconds = s; return this; }
    /** Lists one more output file at this URL in every manifest (null: none), e.g. one on a foreign host. */
    public void extraOutputUrl(String url) { this.extraOutputUrl = url; }
    /** Lists one more Patient output file with exactly these bytes in every manifest (over-long lines, bad UTF-8). */
    public void addOutputFile(String name, byte[] content) { extraFiles.put(name, content.clone()); }
    public void clearOutputFiles() { extraFiles.clear(); }
    /** Every file answer (here or from the storage) waits this long before its first byte (a slow server). */
    public FhirBulkSandbox fileDelay(Duration delay) { this.fileDelay = delay; return this; }
    /**
     * File requests of the exports kicked off at this level ({@code Group/<id>}, ...) wait until {@code release}
     * opens (at most a minute): a source whose downloads are all busy, for as long as a test needs.
     */
    public FhirBulkSandbox holdFiles(String exportLevel, CountDownLatch release) {
        heldLevels.put(exportLevel, release);
        return this;
    }
    /**
     * The most file requests answered at once for the exports kicked off at this level: {@code Group/<id>},
     * {@code Patient} or {@code ""} (system). Two sources exporting different groups are told apart this way.
     */
    public int maxConcurrentFileRequests(String exportLevel) {
        FileConcurrency c = fileConcurrency.get(exportLevel);
        return c == null ? 0 : c.max.get();
    }
    /**
     * The next {@code times} fetches of this file from the presigned storage answer 403 as S3 does for an expired
     * link. Aimed at one file by name, which a {@link ScriptedFaults} FILE fault (the next file request) is not.
     */
    public void expireLinks(String name, int times) { expiredLinks.put(name, times); }
    /** Expires every file of the job: 410 for any fetch from now on. */
    public void expireFiles(String jobId) { Job j = jobs.get(jobId); if (j != null) { j.expired = true; } }
    /** Invalidates every token issued so far (a token expiring mid-series). */
    public void revokeTokens() { issuedTokens.clear(); }

    public String fhirBase() { return baseUrl() + BASE_PATH + "/"; }
    public String storageOrigin() { return storage.baseUrl(); }
    public String tokenUrl() { return baseUrl() + BASE_PATH + "/token"; }
    public List<String> jobIds() { return List.copyOf(jobs.keySet()); }
    public int tokensIssued() { return issued.get(); }
    public List<RecordedRequest> storageRequests() { return storage.requests(); }
    private final AtomicInteger issued = new AtomicInteger();

    /** HTTPS for the Bulk Data server and its "presigned" storage alike. */
    @Override
    public FhirBulkSandbox tls(SSLContext context) {
        super.tls(context);
        storage.tls(context);
        return this;
    }

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

    // ---- the Bulk Data API ---------------------------------------------------------------------------------

    /**
     * Kick-offs (GET or POST), status polls, and file answers with a body (not the 307 to storage, whose answer is
     * the storage's).
     */
    @Override
    protected ScriptedFaults.Aim aim(HttpExchange ex) {
        String path = ex.getRequestURI().getPath();
        if (path.startsWith(BASE_PATH + "/") && path.endsWith("$export")) {
            return ScriptedFaults.Aim.KICKOFF;
        }
        if (!ex.getRequestMethod().equals("GET")) {
            return null;
        }
        if (path.startsWith(BASE_PATH + "/jobs/")) {
            return ScriptedFaults.Aim.STATUS;
        }
        return path.startsWith(BASE_PATH + "/files/") && !path.endsWith("/Observation-2.ndjson")
                ? ScriptedFaults.Aim.FILE : null;
    }

    @Override
    protected void handle(HttpExchange ex, String body) throws IOException {
        String path = ex.getRequestURI().getPath();
        if (!path.startsWith(BASE_PATH + "/")) {
            sendJson(ex, 404, outcome("not-found", "No such path"));
            return;
        }
        String rest = path.substring(BASE_PATH.length() + 1);
        if (rest.equals(".well-known/smart-configuration")) {
            sendJson(ex, 200, "{\"token_endpoint\":\"" + tokenUrl() + "\",\"token_endpoint_auth_methods_supported\":"
                    + "[\"private_key_jwt\",\"client_secret_basic\"],\"token_endpoint_auth_signing_alg_values_supported\":"
                    + "[\"RS384\",\"ES384\"],\"grant_types_supported\":[\"client_credentials\"]}");
        } else if (rest.equals("metadata")) {
            sendJson(ex, 200, capabilityStatement());
        } else if (rest.equals("token")) {
            token(ex, body);
        } else if (rest.endsWith("$export")) {
            kickoff(ex, rest, body);
        } else if (rest.startsWith("jobs/")) {
            if (!authorized(ex)) {
                return;
            }
            status(ex, rest.substring("jobs/".length()));
        } else if (rest.startsWith("files/")) {
            String[] parts = rest.substring("files/".length()).split("/", 2);
            if (parts.length < 2) {
                sendJson(ex, 404, outcome("not-found", "No such file"));
            } else if (parts[1].equals("Observation-2.ndjson")) {
                // Served from "presigned" storage on another origin, as Oracle does.
                ex.getResponseHeaders().set("Location", storage.baseUrl() + "/bucket/" + parts[0] + "/" + parts[1]
                        + "?X-Amz-Signature=sandbox-signature&X-Amz-Expires=300");
                send(ex, 307, null, new byte[0]);
            } else if (authorized(ex)) {
                file(ex, parts[0], parts[1]);
            }
        } else {
            sendJson(ex, 404, outcome("not-found", "No such path"));
        }
    }

    private void kickoff(HttpExchange ex, String rest, String body) throws IOException {
        if (!authorized(ex)) {
            return;
        }
        String query = ex.getRequestURI().getRawQuery();
        Map<String, String> params = new LinkedHashMap<>(query(query));
        if (ex.getRequestMethod().equals("POST")) {
            params.putAll(postParameters(body));
        }
        Set<String> types = params.containsKey("_type") ? Set.of(params.get("_type").split(","))
                : Set.of("Patient", "Observation");
        String id = "job-" + ids.incrementAndGet() + "-" + instance;
        LOG.info("Sandbox: {} kick-off {} {} -> export {} of {}", ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
                query == null ? "" : query, id, types);
        String request = baseUrl() + BASE_PATH + "/" + rest + (query == null ? "" : "?" + query);
        String level = rest.substring(0, rest.length() - "$export".length()).replaceAll("/$", "");
        jobs.put(id, new Job(id, level, request, types, params.containsKey("_since")));
        ex.getResponseHeaders().set("Content-Location", fhirBase() + "jobs/" + id);
        send(ex, 202, null, new byte[0]);
    }

    private void status(HttpExchange ex, String id) throws IOException {
        Job job = jobs.get(id);
        if (job == null || job.deleted) {
            sendJson(ex, 404, outcome("not-found", "Export " + id + " not found"));
            return;
        }
        if (ex.getRequestMethod().equals("DELETE")) {
            job.deleted = true;
            send(ex, 202, null, new byte[0]);
            return;
        }
        int poll = job.polls.incrementAndGet();
        if (poll <= pollsBeforeReady) {
            ex.getResponseHeaders().set("X-Progress", (100 * poll / (pollsBeforeReady + 1)) + "% complete");
            ex.getResponseHeaders().set("Retry-After", String.valueOf(retryAfterSeconds));
            send(ex, 202, null, new byte[0]);
            return;
        }
        ex.getResponseHeaders().set("Expires", DateTimeFormatter.RFC_1123_DATE_TIME
                .format(Instant.now().plusSeconds(3600).atZone(ZoneOffset.UTC)));
        sendJson(ex, 200, manifest(job));
    }

    /**
     * The server's CapabilityStatement, as a FHIR server answers {@code GET [base]/metadata}: the three export
     * operations, and where tokens come from (the SMART oauth-uris extension). The relay does not read it; clients
     * that look before they kick off (the reference bulk-data-client does, in the benchmarks) need it.
     */
    private String capabilityStatement() {
        String security = !oauth ? "" : """
                "security": {"service": [{"coding": [{"system": \
                "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}]}],
                  "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{"url": "token", "valueUri": "%s"}]}]},
                """.formatted(tokenUrl());
        return """
                {"resourceType": "CapabilityStatement", "status": "active", "date": "2026-01-01", "kind": "instance",
                 "fhirVersion": "4.0.1", "format": ["json"],
                 "implementation": {"description": "FHIR Bulk Data sandbox", "url": "%s"},
                 "rest": [{"mode": "server", %s
                   "operation": [{"name": "export", "definition": "%3$sexport"}],
                   "resource": [
                     {"type": "Patient", "operation": [{"name": "export", "definition": "%3$spatient-export"}]},
                     {"type": "Group", "operation": [{"name": "export", "definition": "%3$sgroup-export"}]}]}]}
                """.formatted(fhirBase(), security, "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/");
    }

    private String manifest(Job job) {
        String files = fhirBase() + "files/" + job.id + "/";
        List<String> output = new ArrayList<>();
        if (job.types.contains("Patient")) {
            output.add("{\"type\":\"Patient\",\"url\":\"" + files + "Patient-1.ndjson\",\"count\":" + patients + "}");
        }
        if (job.types.contains("Observation")) {
            output.add("{\"type\":\"Observation\",\"url\":\"" + files + "Observation-1.ndjson\"}");
            output.add("{\"type\":\"Observation\",\"url\":\"" + files + "Observation-2.ndjson\"}");
        }
        for (int i = 1; i <= smallFiles; i++) {
            output.add("{\"type\":\"Observation\",\"url\":\"" + files + "Small-" + i + ".ndjson\"}");
        }
        for (String name : extraFiles.keySet()) {
            output.add("{\"type\":\"Patient\",\"url\":\"" + files + name + "\"}");
        }
        if (extraOutputUrl != null) {
            output.add("{\"type\":\"Patient\",\"url\":\"" + extraOutputUrl + "\"}");
        }
        String deleted = job.since ? "{\"type\":\"Bundle\",\"url\":\"" + files + "deleted.ndjson\"}" : "";
        return "{\"transactionTime\":\"" + Instant.now() + "\",\"request\":\"" + job.request + "\","
                + "\"requiresAccessToken\":" + (staticToken != null || oauth) + ","
                + "\"output\":[" + String.join(",", output) + "],"
                + "\"deleted\":[" + deleted + "],"
                + "\"error\":[{\"type\":\"OperationOutcome\",\"url\":\"" + files + "errors.ndjson\"}],"
                + "\"extension\":{\"https://example.org/sandbox\":true},\"unknownField\":1}";
    }

    private void file(HttpExchange ex, String jobId, String name) throws IOException {
        Job job = jobs.get(jobId);
        if (job == null || job.expired) {
            sendJson(ex, 410, outcome("not-found", "File expired"));
            return;
        }
        byte[] content;
        try {
            content = name.equals("Observation-1.ndjson") && bigFileBytes > 0 ? null : content(name);
        } catch (IllegalArgumentException e) {
            sendJson(ex, 404, outcome("not-found", "No such file"));
            return;
        }
        serveCounted(ex, job, name, content);
    }

    /**
     * Serves a file of the job, counted among the file requests of its kick-off level until its answer starts.
     * Not until the answer ends: the client may read the last byte, and send its next request, before this
     * thread is back from writing it, and that next request would be counted as one more at once.
     */
    private void serveCounted(HttpExchange ex, Job job, String name, byte[] content) throws IOException {
        FileConcurrency c = fileConcurrency.computeIfAbsent(job.level, l -> new FileConcurrency());
        c.max.accumulateAndGet(c.now.incrementAndGet(), Math::max);
        try {
            CountDownLatch held = heldLevels.get(job.level);
            if (held != null) {
                held.await(1, TimeUnit.MINUTES);
            }
            Duration delay = fileDelay;
            if (!delay.isZero()) {
                Thread.sleep(delay.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } finally {
            c.now.decrementAndGet();
        }
        serve(ex, name, content);
    }

    void serve(HttpExchange ex, String name, byte[] content) throws IOException {
        boolean gzip = String.valueOf(ex.getRequestHeaders().getFirst("Accept-Encoding")).contains("gzip");
        ex.getResponseHeaders().set("Content-Type", "application/fhir+ndjson");
        if (content == null) {
            InputStream big = SandboxData.bigNdjson(bigFileBytes);
            // its length announced, as a file server or object store does for a stored file
            stream(ex, "application/fhir+ndjson", bigFileBytesPerSecond > 0 ? SandboxData.throttled(big, bigFileBytesPerSecond) : big,
                    SandboxData.bigNdjsonLength(bigFileBytes));
            return;
        }
        if (gzip) {
            ByteArrayOutputStream zipped = new ByteArrayOutputStream();
            try (GZIPOutputStream z = new GZIPOutputStream(zipped)) {
                z.write(content);
            }
            ex.getResponseHeaders().set("Content-Encoding", "gzip");
            send(ex, 200, "application/fhir+ndjson", zipped.toByteArray());
        } else {
            send(ex, 200, "application/fhir+ndjson", content);
        }
    }

    /** The exact bytes of a sandbox file, the same for every job: tests compare deliveries with them. */
    public byte[] content(String name) {
        byte[] extra = extraFiles.get(name);
        if (extra != null) {
            return extra.clone();
        }
        return switch (name) {
            case "Patient-1.ndjson" -> SandboxData.patients(patients);
            case "Observation-1.ndjson" -> bigFileBytes > 0 ? null : SandboxData.observations(patients, 0);
            case "Observation-2.ndjson" -> SandboxData.observations(patients, 1);
            case "errors.ndjson" -> SandboxData.errors();
            case "deleted.ndjson" -> SandboxData.deleted();
            default -> smallFile(name);
        };
    }

    private byte[] smallFile(String name) {
        if (name.matches("Small-[0-9]{1,6}\\.ndjson")) {
            int n = Integer.parseInt(name.substring(6, name.length() - 7));
            if (n >= 1 && n <= smallFiles) {
                return SandboxData.observations(patients, 2 + n);
            }
        }
        throw new IllegalArgumentException(name);
    }

    private boolean authorized(HttpExchange ex) throws IOException {
        String header = ex.getRequestHeaders().getFirst("Authorization");
        String token = header != null && header.startsWith("Bearer ") ? header.substring(7) : null;
        boolean ok;
        if (staticToken != null) {
            ok = staticToken.equals(token);
        } else if (oauth) {
            Instant until = token == null ? null : issuedTokens.get(token);
            ok = until != null && Instant.now().isBefore(until);
        } else {
            ok = true;
        }
        if (!ok) {
            sendJson(ex, 401, outcome("login", "Missing or invalid access token"));
        }
        return ok;
    }

    private void token(HttpExchange ex, String body) throws IOException {
        Map<String, String> form = query(body);
        String client = null;
        String basic = ex.getRequestHeaders().getFirst("Authorization");
        if (basic != null && basic.startsWith("Basic ")) {
            String[] pair = new String(Base64.getDecoder().decode(basic.substring(6)), StandardCharsets.UTF_8).split(":", 2);
            String id = URLDecoder.decode(pair[0], StandardCharsets.UTF_8);
            if (pair.length == 2 && URLDecoder.decode(pair[1], StandardCharsets.UTF_8).equals(clientSecrets.get(id))) {
                client = id;
            }
        } else if (form.containsKey("client_secret")) {
            String id = form.get("client_id");
            if (form.get("client_secret").equals(clientSecrets.get(id))) {
                client = id;
            }
        } else if (form.containsKey("client_assertion")) {
            client = verifyAssertion(form.get("client_assertion"));
        }
        if (client == null || !"client_credentials".equals(form.get("grant_type"))) {
            sendJson(ex, 401, "{\"error\":\"invalid_client\",\"error_description\":\"client authentication failed\"}");
            return;
        }
        String token = "sandbox-token-" + issued.incrementAndGet() + "-" + Long.toHexString(System.nanoTime());
        issuedTokens.put(token, Instant.now().plusSeconds(tokenLifetimeSeconds));
        sendJson(ex, 200, "{\"access_token\":\"" + token + "\",\"token_type\":\"bearer\",\"expires_in\":"
                + tokenLifetimeSeconds + ",\"scope\":\"" + form.getOrDefault("scope", "") + "\"}");
    }

    private String verifyAssertion(String assertion) {
        try {
            SignedJWT jwt = SignedJWT.parse(assertion);
            String iss = jwt.getJWTClaimsSet().getIssuer();
            JWK key = clientKeys.get(iss);
            if (key == null || jwt.getHeader().getKeyID() == null || !jwt.getHeader().getKeyID().equals(key.getKeyID())
                    || !iss.equals(jwt.getJWTClaimsSet().getSubject())
                    || !jwt.getJWTClaimsSet().getAudience().contains(tokenUrl())
                    || jwt.getJWTClaimsSet().getExpirationTime().toInstant().isBefore(Instant.now())) {
                return null;
            }
            JWSVerifier verifier = new DefaultJWSVerifierFactory().createJWSVerifier(jwt.getHeader(),
                    key.getKeyType().getValue().equals("RSA") ? key.toRSAKey().toPublicKey() : key.toECKey().toPublicKey());
            return jwt.verify(verifier) ? iss : null;
        } catch (Exception e) {
            return null;
        }
    }

    static String outcome(String code, String text) {
        return "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"" + code
                + "\",\"diagnostics\":\"" + text + "\"}]}";
    }

    static Map<String, String> query(String raw) {
        Map<String, String> params = new LinkedHashMap<>();
        if (raw == null || raw.isBlank()) {
            return params;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.merge(name, value, (a, b) -> a + "," + b);
        }
        return params;
    }

    private static Map<String, String> postParameters(String body) {
        Map<String, String> params = new LinkedHashMap<>();
        try {
            var root = new ObjectMapper().readTree(body);
            for (var p : root.path("parameter")) {
                String value = p.has("valueReference") ? p.path("valueReference").path("reference").asText()
                        : p.has("valueInstant") ? p.path("valueInstant").asText() : p.path("valueString").asText();
                params.merge(p.path("name").asText(), value, (a, b) -> a + "," + b);
            }
        } catch (IOException ignored) {
            // an empty POST kick-off is a plain export
        }
        return params;
    }

    private static final byte[] EXPIRED_LINK = ("<Error><Code>AccessDenied</Code><Message>Request has expired"
            + "</Message></Error>").getBytes(StandardCharsets.UTF_8);

    /** The presigned-URL storage: another origin, which refuses any Authorization header as S3 does. */
    private final class Storage extends SandboxServer {
        Storage(String host) {
            super(host, 0);
        }

        @Override
        protected ScriptedFaults.Aim aim(HttpExchange ex) {
            return ScriptedFaults.Aim.FILE;
        }

        @Override
        protected void handle(HttpExchange ex, String body) throws IOException {
            if (ex.getRequestHeaders().containsKey("Authorization")) {
                send(ex, 400, "application/xml", ("<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism"
                        + " allowed</Message></Error>").getBytes(StandardCharsets.UTF_8));
                return;
            }
            String[] parts = ex.getRequestURI().getPath().split("/");
            String query = String.valueOf(ex.getRequestURI().getRawQuery());
            if (parts.length < 4 || !query.contains("X-Amz-Signature=")) {
                send(ex, 403, "application/xml", "<Error><Code>AccessDenied</Code></Error>".getBytes(StandardCharsets.UTF_8));
                return;
            }
            Job job = jobs.get(parts[2]);
            if (job == null || job.expired) {
                send(ex, 403, "application/xml", EXPIRED_LINK);
                return;
            }
            Integer left = expiredLinks.get(parts[3]);
            if (left != null && left > 0) {
                expiredLinks.put(parts[3], left - 1);
                send(ex, 403, "application/xml", EXPIRED_LINK);
                return;
            }
            serveCounted(ex, job, parts[3], content(parts[3]));
        }
    }

}
