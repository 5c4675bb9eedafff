package org.healthexport.relay.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The HealthEx API as its docs describe it (vendor-apis.md section 4, seeds 000 and 001), for the demo and the
 * tests:
 * <ul>
 * <li>{@code POST /v1/auth/token}: {@code {apiKey, apiSecret}} gives a researcher token (role EXTERNAL_RESEARCHER),
 * {@code {email, password}} a patient token (PATIENT or PATIENT_READ_ONLY; or EXTERNAL_RESEARCHER for a
 * researcher's own login); JWT-like HS256 tokens with {@code exp}, answered as {@code {token, expiration}},
 * valid 24 hours unless a test sets another lifetime or expires them all.</li>
 * <li>{@code POST /v1/projects/{p}/recruitment/identified-patients/{id}/$updateData}: 201 (or 200, per patient)
 * with IN_PROGRESS_NO_ACTION_NEEDED (a new retrieval, its counts) or PATIENT_ACTION_NEEDED with any documented
 * reason ({@code skipInteractive} skips the interactive ones); 404 unknown project or patient, 403 no access,
 * 400 paused study, 409 inactive study; 401 without a valid token, 403 with a patient token.</li>
 * <li>{@code GET /v1/patients/data-retrieval/status}: the patient's latest visible retrieval, each location moving
 * through its scripted statuses one poll at a time; 404 before any retrieval; 401 without a valid token; 403 with
 * a token that is not a patient's.</li>
 * <li>{@code GET /FHIR/R4/Person/{id}/$everything?_count=&_offset=}: a searchset Bundle page with {@code total},
 * {@code self} and {@code next} links (next links can be turned off); 404 for a patient who did not consent.</li>
 * </ul>
 * Every request is recorded (with its Authorization header). Faults are the {@link ScriptedFaults} every sandbox
 * takes ($updateData is the KICKOFF, the status poll STATUS, each $everything page FILE), and token-endpoint
 * faults ({@link #queueTokenFault}).
 */
public class HealthexSandbox extends SandboxServer {
    public static final String DEFAULT_API_KEY = "sandbox-api-key";
    public static final String DEFAULT_API_SECRET = "sandbox-api-secret";
    public static final String DEFAULT_PROJECT = "prj-sandbox";
    public static final String RESEARCHER = "EXTERNAL_RESEARCHER";
    public static final String PATIENT = "PATIENT";
    public static final String PATIENT_READ_ONLY = "PATIENT_READ_ONLY";
    /** Every documented patientActionNeededReason. */
    public static final List<String> ACTION_REASONS = List.of("CONSENT_EXPIRED", "CONSENT_NOT_FOUND",
            "CONSENT_REVOKED", "UNLOCKED_OR_NO_TARGETED_LIST", "AUTHENTICATION_EXPIRED",
            "AUTHENTICATION_NEEDED_NEW_FACILITY");
    /** The reasons that are about consent; skipInteractive skips every other one. */
    public static final Set<String> CONSENT_REASONS = Set.of("CONSENT_EXPIRED", "CONSENT_NOT_FOUND",
            "CONSENT_REVOKED");
    private static final Pattern UPDATE = Pattern.compile(
            "/v1/projects/([^/]+)/recruitment/identified-patients/([^/]+)/\\$updateData");
    private static final Pattern EVERYTHING = Pattern.compile("/FHIR/R4/Person/([^/]+)/\\$everything");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A project's state at HealthEx. */
    public enum ProjectState { ACTIVE, PAUSED, INACTIVE, NO_ACCESS }

    private final byte[] signingKey = new byte[32];
    private final Map<String, String> apiClients = new ConcurrentHashMap<>();
    private final Map<String, Login> logins = new ConcurrentHashMap<>();
    private final Map<String, ProjectState> projects = new ConcurrentHashMap<>();
    private final Map<String, Patient> patients = new ConcurrentHashMap<>();
    private final Map<String, Issued> tokens = new ConcurrentHashMap<>();
    private final Map<String, Issued> everIssued = new ConcurrentHashMap<>();
    private final Deque<Integer> tokenFaults = new ConcurrentLinkedDeque<>();
    private final AtomicInteger retrievalIds = new AtomicInteger();
    private final AtomicInteger issuedCount = new AtomicInteger();
    private volatile Duration tokenLifetime = Duration.ofHours(24);
    private volatile boolean nextLinks = true;
    private volatile int defaultCount = 30;

    public HealthexSandbox(String host, int port) {
        super(host, port);
        new SecureRandom().nextBytes(signingKey);
    }

    /** The demo setup: the default API client and project, and one patient with a login and 40 records. */
    public static HealthexSandbox demo(String host) {
        HealthexSandbox sandbox = new HealthexSandbox(host, 0);
        sandbox.apiClient(DEFAULT_API_KEY, DEFAULT_API_SECRET);
        sandbox.project(DEFAULT_PROJECT, ProjectState.ACTIVE);
        sandbox.patient("pat-demo").login("pat-demo@sandbox.healthex.test", "sandbox-patient-password")
                .records(40);
        return sandbox;
    }

    private record Login(String password, String role, String patientId) { }

    private record Issued(String role, String subject, Instant expiresAt) { }

    /** One healthcare location's script: the status it shows at each poll (the last one stays). */
    public record LocationScript(String locationId, String locationName, String locationSource,
                                 List<String> statuses, int documentCount) { }

    /** The scripted behaviour of one patient; every setter returns the script for chaining. */
    public final class Patient {
        final String id;
        volatile String project = DEFAULT_PROJECT;
        volatile String actionReason;
        volatile int updateCode = 201;
        volatile boolean omitRetrievalId;
        volatile List<LocationScript> locations = defaultLocations();
        volatile List<String> vectorization = List.of("IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "COMPLETE");
        volatile int hiddenPolls;
        volatile int records = 12;
        volatile boolean consented = true;
        volatile boolean nextLinks = true;
        volatile String undocumentedMessage;
        volatile String undocumentedStatus;
        final Deque<String> nextRetrievalIds = new ConcurrentLinkedDeque<>();
        final List<Retrieval> retrievals = new CopyOnWriteArrayList<>();

        Patient(String id) {
            this.id = id;
        }

        /** The patient's own login (a patient token). */
        public Patient login(String email, String password) {
            logins.put(email, new Login(password, PATIENT, id));
            return this;
        }

        /** A read-only patient login (PATIENT_READ_ONLY token). */
        public Patient readOnlyLogin(String email, String password) {
            logins.put(email, new Login(password, PATIENT_READ_ONLY, id));
            return this;
        }

        public Patient project(String projectId) { this.project = projectId; return this; }
        /** $updateData answers PATIENT_ACTION_NEEDED with this reason (null: in progress). */
        public Patient actionNeeded(String reason) { this.actionReason = reason; return this; }
        /** 201 (the guide) or 200 (the API reference). */
        public Patient updateCode(int code) { this.updateCode = code; return this; }
        /** The guide's short answer: just the message, no retrievalId. */
        public Patient omitRetrievalId(boolean omit) { this.omitRetrievalId = omit; return this; }
        public Patient locations(LocationScript... scripts) { this.locations = List.of(scripts); return this; }
        /** The vectorization status at each poll (the last one stays). */
        public Patient vectorization(String... statuses) { this.vectorization = List.of(statuses); return this; }
        /** After $updateData, this many status polls do not see the new retrieval yet (404, or the older one). */
        public Patient hiddenPolls(int polls) { this.hiddenPolls = polls; return this; }
        /** How many Observations the patient's records hold (plus Person, Patient, Conditions...). */
        public Patient records(int observations) { this.records = observations; return this; }
        /** false: the patient did not consent to the organization ($everything answers 404). */
        public Patient consented(boolean c) { this.consented = c; return this; }
        /** $updateData answers this message, one the docs do not list (null: the documented ones). */
        public Patient undocumentedMessage(String message) { this.undocumentedMessage = message; return this; }
        /** The status answers this overall dataRetrievalStatus, one the docs do not list (null: documented). */
        public Patient undocumentedStatus(String status) { this.undocumentedStatus = status; return this; }
        /** The retrievalIds the next $updateData calls name, in order (then generated ones): a test can script a status body for them. */
        public Patient nextRetrievalIds(String... ids) { nextRetrievalIds.addAll(List.of(ids)); return this; }
        /** false: this patient's $everything pages carry only a self link (clients page with _offset). */
        public Patient nextLinks(boolean on) { this.nextLinks = on; return this; }

        public List<String> retrievalIds() {
            return retrievals.stream().map(r -> r.id).toList();
        }

        /** The patient's records as the relay must deliver them: NDJSON lines per resource type. */
        public Map<String, String> ndjson() {
            Map<String, StringBuilder> byType = new LinkedHashMap<>();
            for (String[] r : resources(this)) {
                byType.computeIfAbsent(r[0], k -> new StringBuilder()).append(r[2]).append('\n');
            }
            Map<String, String> out = new LinkedHashMap<>();
            byType.forEach((k, v) -> out.put(k, v.toString()));
            return out;
        }

        public int resourceCount() {
            return resources(this).size();
        }
    }

    static final class Retrieval {
        final String id;
        final Instant createdAt;
        final List<LocationScript> locations;
        final List<String> vectorization;
        final AtomicInteger polls = new AtomicInteger();
        final AtomicInteger hidden;

        Retrieval(String id, Instant createdAt, List<LocationScript> locations, List<String> vectorization,
                  int hidden) {
            this.id = id;
            this.createdAt = createdAt;
            this.locations = locations;
            this.vectorization = vectorization;
            this.hidden = new AtomicInteger(hidden);
        }

        int length() {
            int max = 1;
            for (LocationScript l : locations) {
                max = Math.max(max, l.statuses().size());
            }
            return max;
        }
    }

    static List<LocationScript> defaultLocations() {
        return List.of(
                new LocationScript("loc-hospital-123", "General Hospital", "TEFCA_DOCUMENT",
                        List.of("NOT_STARTED", "IN_PROGRESS", "COMPLETE"), 5),
                new LocationScript("loc-clinic-456", "Downtown Clinic", "USER_SELECTED",
                        List.of("NOT_STARTED", "IN_PROGRESS", "IN_PROGRESS", "COMPLETE"), 3));
    }

    // ---- settings, for the demo and the tests -------------------------------------------------------------

    public HealthexSandbox apiClient(String apiKey, String apiSecret) { apiClients.put(apiKey, apiSecret); return this; }
    public HealthexSandbox project(String projectId, ProjectState state) { projects.put(projectId, state); return this; }
    /** The patient's script, created with the defaults on first use (a patient HealthEx knows). */
    public Patient patient(String id) { return patients.computeIfAbsent(id, Patient::new); }
    /** A researcher's own email login: its token is not a patient token (the status answers 403). */
    public HealthexSandbox researcherLogin(String email, String password) {
        logins.put(email, new Login(password, RESEARCHER, null));
        return this;
    }
    /** Lifetime of the tokens issued from now on (24 hours by default). */
    public HealthexSandbox tokenLifetime(Duration lifetime) { this.tokenLifetime = lifetime; return this; }
    /** Every token issued so far stops working (a token that expired): the next call answers 401. */
    public void expireTokens() { tokens.clear(); }
    /** Only the tokens of this role stop working. */
    public void expireTokens(String role) { tokens.values().removeIf(t -> t.role().equals(role)); }
    /** false: $everything pages carry only a self link; clients page with _offset and total. */
    public HealthexSandbox nextLinks(boolean on) { this.nextLinks = on; return this; }
    public HealthexSandbox defaultCount(int count) { this.defaultCount = count; return this; }
    /** The next token request (researcher or patient login) answers this code. */
    public void queueTokenFault(int code) { tokenFaults.add(code); }
    public int tokensIssued() { return issuedCount.get(); }

    /** The role of the token in an Authorization header ("Bearer ..."), even an expired one; else null. */
    public String roleOf(String authorization) {
        if (authorization == null || !authorization.startsWith("Bearer ")) {
            return null;
        }
        Issued issued = everIssued.get(authorization.substring(7));
        return issued == null ? null : issued.role();
    }

    /** Whom the token in an Authorization header was issued to: a patient id, or "api-client:<key>". */
    public String subjectOf(String authorization) {
        if (authorization == null || !authorization.startsWith("Bearer ")) {
            return null;
        }
        Issued issued = everIssued.get(authorization.substring(7));
        return issued == null ? null : issued.subject();
    }

    public String fhirBase() {
        return baseUrl() + "/FHIR/R4/";
    }

    // ---- the API ------------------------------------------------------------------------------------------

    /**
     * Scripted faults: $updateData (which starts a retrieval) is the KICKOFF, the data-retrieval status poll a
     * STATUS request, each $everything page a FILE.
     */
    @Override
    protected ScriptedFaults.Aim aim(HttpExchange ex) {
        String path = ex.getRequestURI().getPath();
        if (ex.getRequestMethod().equals("POST") && UPDATE.matcher(path).matches()) {
            return ScriptedFaults.Aim.KICKOFF;
        }
        if (!ex.getRequestMethod().equals("GET")) {
            return null;
        }
        if (path.equals("/v1/patients/data-retrieval/status")) {
            return ScriptedFaults.Aim.STATUS;
        }
        return EVERYTHING.matcher(path).matches() ? ScriptedFaults.Aim.FILE : null;
    }

    @Override
    protected void handle(HttpExchange ex, String body) throws IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        Matcher m;
        if (path.equals("/v1/auth/token") && method.equals("POST")) {
            token(ex, body);
        } else if ((m = UPDATE.matcher(path)).matches() && method.equals("POST")) {
            updateData(ex, m.group(1), m.group(2), body);
        } else if (path.equals("/v1/patients/data-retrieval/status") && method.equals("GET")) {
            status(ex);
        } else if ((m = EVERYTHING.matcher(path)).matches() && method.equals("GET")) {
            everything(ex, m.group(1));
        } else {
            error(ex, 404, "Cannot " + method + " " + path, "Not Found");
        }
    }

    private void token(HttpExchange ex, String body) throws IOException {
        Integer fault = tokenFaults.poll();
        if (fault != null) {
            error(ex, fault, "Injected fault", fault == 429 ? "Too Many Requests" : "Error");
            return;
        }
        JsonNode req;
        try {
            req = JSON.readTree(body);
        } catch (IOException e) {
            req = null;
        }
        if (req == null || !req.isObject()) {
            error(ex, 400, "Body must be JSON", "Bad Request");
            return;
        }
        String role;
        String subject;
        if (req.hasNonNull("apiKey") || req.hasNonNull("apiSecret")) {
            String secret = apiClients.get(req.path("apiKey").asText());
            if (secret == null || !secret.equals(req.path("apiSecret").asText())) {
                error(ex, 401, "Invalid API key or secret", "Unauthorized");
                return;
            }
            role = RESEARCHER;
            subject = "api-client:" + req.path("apiKey").asText();
        } else if (req.hasNonNull("email") || req.hasNonNull("password")) {
            Login login = logins.get(req.path("email").asText());
            if (login == null || !login.password().equals(req.path("password").asText())) {
                error(ex, 401, "Invalid email or password", "Unauthorized");
                return;
            }
            role = login.role();
            subject = login.patientId() != null ? login.patientId() : "user:" + req.path("email").asText();
        } else {
            error(ex, 400, "apiKey and apiSecret, or email and password, are required", "Bad Request");
            return;
        }
        Instant now = Instant.now();
        Instant exp = now.plus(tokenLifetime);
        String token = jwt(role, subject, now, exp);
        tokens.put(token, new Issued(role, subject, exp));
        everIssued.put(token, new Issued(role, subject, exp));
        issuedCount.incrementAndGet();
        sendJson(ex, 200, "{\"token\":\"" + token + "\",\"expiration\":" + exp.getEpochSecond() + "}");
    }

    private String jwt(String role, String subject, Instant iat, Instant exp) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String payload = b64.encodeToString(("{\"sub\":\"" + subject + "\",\"role\":\"" + role + "\","
                + "\"isTestPatient\":" + !role.equals(RESEARCHER) + ",\"iat\":" + iat.getEpochSecond() + ",\"exp\":"
                + exp.getEpochSecond() + ",\"jti\":\"" + issuedCount.get() + "-" + System.nanoTime() + "\"}")
                .getBytes(StandardCharsets.UTF_8));
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(signingKey, "HmacSHA256"));
            return header + "." + payload + "." + b64.encodeToString(mac.doFinal((header + "." + payload)
                    .getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The valid token of the request, or null after answering 401. */
    private Issued authenticate(HttpExchange ex) throws IOException {
        String header = ex.getRequestHeaders().getFirst("Authorization");
        Issued issued = header != null && header.startsWith("Bearer ") ? tokens.get(header.substring(7)) : null;
        if (issued == null || !Instant.now().isBefore(issued.expiresAt())) {
            error(ex, 401, "The token is missing, invalid, or expired", "Unauthorized");
            return null;
        }
        return issued;
    }

    private void updateData(HttpExchange ex, String projectId, String patientId, String body) throws IOException {
        Issued token = authenticate(ex);
        if (token == null) {
            return;
        }
        if (!token.role().equals(RESEARCHER)) {
            error(ex, 403, "Only an External Researcher API client may update patient data", "Forbidden");
            return;
        }
        ProjectState project = projects.get(decode(projectId));
        if (project == null) {
            error(ex, 404, "Project not found", "Not Found");
            return;
        }
        switch (project) {
            case NO_ACCESS -> {
                error(ex, 403, "You do not have access to this project", "Forbidden");
                return;
            }
            case PAUSED -> {
                error(ex, 400, "Study is paused; patient data updates are not allowed", "Bad Request");
                return;
            }
            case INACTIVE -> {
                error(ex, 409, "Study is inactive; patient data updates are not allowed", "Conflict");
                return;
            }
            default -> { }
        }
        Patient patient = patients.get(decode(patientId));
        if (patient == null || !patient.project.equals(decode(projectId))) {
            error(ex, 404, "Patient not found", "Not Found");
            return;
        }
        boolean skipInteractive = false;
        if (!body.isBlank()) {
            try {
                skipInteractive = JSON.readTree(body).path("skipInteractive").asBoolean(false);
            } catch (IOException e) {
                error(ex, 400, "Body must be JSON", "Bad Request");
                return;
            }
        }
        if (patient.undocumentedMessage != null) {
            sendJson(ex, patient.updateCode, "{\"code\":" + patient.updateCode + ",\"message\":\""
                    + patient.undocumentedMessage + "\"}");
            return;
        }
        String reason = patient.actionReason;
        boolean skipped = reason != null && skipInteractive && !CONSENT_REASONS.contains(reason);
        if (reason != null && !skipped) {
            sendJson(ex, patient.updateCode, "{\"code\":" + patient.updateCode + ",\"message\":\"PATIENT_ACTION_NEEDED\","
                    + "\"patientActionNeededReason\":\"" + reason + "\"}");
            return;
        }
        String scripted = patient.nextRetrievalIds.poll();
        Retrieval r = new Retrieval(scripted != null ? scripted : "batch-" + retrievalIds.incrementAndGet() + "-"
                + Long.toHexString(System.nanoTime() & 0xffffff), Instant.now(), patient.locations, patient.vectorization,
                patient.hiddenPolls);
        patient.retrievals.add(r);
        int skippedCount = skipped ? 1 : 0;
        String answer = patient.omitRetrievalId
                ? "{\"code\":" + patient.updateCode + ",\"message\":\"IN_PROGRESS_NO_ACTION_NEEDED\"}"
                : "{\"code\":" + patient.updateCode + ",\"message\":\"IN_PROGRESS_NO_ACTION_NEEDED\",\"retrievalId\":\""
                + r.id + "\",\"skippedFacilitiesCount\":" + skippedCount + ",\"counts\":{\"skippedExistingFacilities\":"
                + skippedCount + ",\"changedExistingFacilities\":2,\"unchangedExistingFacilities\":3,"
                + "\"retrievedNewFacilities\":0,\"skippedNewFacilities\":0}}";
        sendJson(ex, patient.updateCode, answer);
    }

    private void status(HttpExchange ex) throws IOException {
        Issued token = authenticate(ex);
        if (token == null) {
            return;
        }
        if (!token.role().equals(PATIENT) && !token.role().equals(PATIENT_READ_ONLY)) {
            error(ex, 403, "This endpoint requires a patient token (PATIENT or PATIENT_READ_ONLY)", "Forbidden");
            return;
        }
        Patient patient = patients.get(token.subject());
        Optional<Retrieval> shown = patient == null ? Optional.empty() : visible(patient);
        if (shown.isEmpty()) {
            error(ex, 404, "No data retrieval request was found for the patient", "Not Found");
            return;
        }
        Retrieval r = shown.get();
        int poll = r.polls.getAndIncrement();
        int last = r.length() - 1;
        boolean complete = poll >= last;
        StringBuilder locations = new StringBuilder();
        Instant now = Instant.now();
        for (LocationScript l : r.locations) {
            String s = l.statuses().get(Math.min(poll, l.statuses().size() - 1));
            if (locations.length() > 0) {
                locations.append(',');
            }
            int docs = s.equals("COMPLETE") || s.equals("PARTIAL_COMPLETE") ? l.documentCount() : 0;
            locations.append("{\"locationId\":\"").append(l.locationId()).append("\",\"locationName\":")
                    .append(l.locationName() == null ? "null" : "\"" + l.locationName() + "\"")
                    .append(",\"locationLogoUrl\":null,\"locationSource\":\"").append(l.locationSource())
                    .append("\",\"dataRetrievalStatus\":\"").append(s).append("\",\"updatedAt\":\"").append(now)
                    .append("\",\"documentCount\":").append(docs).append('}');
        }
        String vectorization = r.vectorization.get(Math.min(poll, r.vectorization.size() - 1));
        String overall = patient.undocumentedStatus != null ? patient.undocumentedStatus
                : complete ? "COMPLETE" : "IN_PROGRESS";
        sendJson(ex, 200, "{\"patientId\":\"" + patient.id + "\",\"retrievalId\":\"" + r.id + "\","
                + "\"dataRetrievalStatus\":\"" + overall + "\","
                + "\"vectorizationStatus\":\"" + vectorization + "\",\"createdAt\":\"" + r.createdAt + "\","
                + "\"updatedAt\":\"" + now + "\",\"locations\":[" + locations + "]}");
    }

    /** The newest retrieval once its hidden polls are used up; until then the one before it (or none). */
    private static Optional<Retrieval> visible(Patient patient) {
        List<Retrieval> all = patient.retrievals;
        for (int i = all.size() - 1; i >= 0; i--) {
            Retrieval r = all.get(i);
            if (r.hidden.get() <= 0) {
                return Optional.of(r);
            }
            r.hidden.decrementAndGet();
            // an older retrieval is shown as it ended
            for (int j = i - 1; j >= 0; j--) {
                Retrieval older = all.get(j);
                if (older.hidden.get() <= 0) {
                    older.polls.set(Math.max(older.polls.get(), older.length() + 1));
                    return Optional.of(older);
                }
            }
            return Optional.empty();
        }
        return Optional.empty();
    }

    private void everything(HttpExchange ex, String rawId) throws IOException {
        Issued token = authenticate(ex);
        if (token == null) {
            return;
        }
        if (!token.role().equals(RESEARCHER)) {
            outcome(ex, 403, "forbidden", "Patient data is read with an External Researcher token");
            return;
        }
        String id = decode(rawId);
        Patient patient = patients.get(id);
        if (patient == null || !patient.consented) {
            outcome(ex, 404, "not-found", "Person/" + id + " is not known or not visible to this organization");
            return;
        }
        Map<String, String> q = query(ex.getRequestURI().getRawQuery());
        int count = intParam(q.get("_count"), defaultCount);
        int offset = intParam(q.get("_offset"), 0);
        if (count < 1 || offset < 0) {
            outcome(ex, 400, "invalid", "_count must be positive and _offset not negative");
            return;
        }
        List<String[]> all = resources(patient);
        String self = fhirBase() + "Person/" + id + "/$everything?_count=" + count + "&_offset=" + offset;
        StringBuilder page = new StringBuilder("{\"resourceType\":\"Bundle\",\"id\":\"page-" + offset + "\","
                + "\"type\":\"searchset\",\"total\":" + all.size() + ",\"link\":[{\"relation\":\"self\",\"url\":\""
                + self + "\"}");
        if (nextLinks && patient.nextLinks && offset + count < all.size()) {
            page.append(",{\"relation\":\"next\",\"url\":\"").append(fhirBase()).append("Person/").append(id)
                    .append("/$everything?_count=").append(count).append("&_offset=").append(offset + count)
                    .append("\"}");
        }
        page.append("],\"entry\":[");
        for (int i = offset; i < Math.min(all.size(), offset + count); i++) {
            String[] r = all.get(i);
            if (i > offset) {
                page.append(',');
            }
            page.append("{\"fullUrl\":\"").append(fhirBase()).append(r[0]).append('/').append(r[1])
                    .append("\",\"search\":{\"mode\":\"match\"},\"resource\":").append(r[2]).append('}');
        }
        page.append("]}");
        send(ex, 200, "application/fhir+json", page.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The patient's records, in the order $everything returns them: the Person first, then the Patient and
     * clinical resources of several types interleaved. {type, id, compact JSON}.
     */
    static List<String[]> resources(Patient p) {
        String pid = p.id;
        String patientRef = "Patient/" + pid + "-p";
        List<String[]> out = new ArrayList<>();
        out.add(new String[] {"Person", pid, "{\"resourceType\":\"Person\",\"id\":\"" + pid + "\",\"name\":"
                + "[{\"family\":\"Sandbox\",\"given\":[\"Zoë\"]}],\"link\":[{\"target\":{\"reference\":\""
                + patientRef + "\"}}]}"});
        out.add(new String[] {"Patient", pid + "-p", "{\"resourceType\":\"Patient\",\"id\":\"" + pid + "-p\","
                + "\"name\":[{\"family\":\"Sandbox\",\"given\":[\"Zoë\"]}],\"gender\":\"female\","
                + "\"birthDate\":\"1980-02-03\"}"});
        for (int i = 1; i <= p.records; i++) {
            String value = (5 + (i % 40) / 10) + "." + (i % 10) + "0";
            out.add(new String[] {"Observation", pid + "-obs-" + i, "{\"resourceType\":\"Observation\",\"id\":\""
                    + pid + "-obs-" + i + "\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
                    + "\"http://loinc.org\",\"code\":\"4548-4\"}],\"text\":\"Hemoglobin A1c\"},\"subject\":"
                    + "{\"reference\":\"" + patientRef + "\"},\"valueQuantity\":{\"value\":" + value
                    + ",\"unit\":\"%\"}}"});
            if (i % 5 == 1) {
                int n = i / 5 + 1;
                out.add(new String[] {"Condition", pid + "-cond-" + n, "{\"resourceType\":\"Condition\",\"id\":\""
                        + pid + "-cond-" + n + "\",\"code\":{\"text\":\"Type 2 diabetes mellitus\"},\"subject\":"
                        + "{\"reference\":\"" + patientRef + "\"},\"onsetDateTime\":\"2019-0" + (1 + n % 9)
                        + "-15\"}"});
            }
            if (i % 7 == 3) {
                out.add(new String[] {"Encounter", pid + "-enc-" + i, "{\"resourceType\":\"Encounter\",\"id\":\""
                        + pid + "-enc-" + i + "\",\"status\":\"finished\",\"class\":{\"code\":\"AMB\"},"
                        + "\"subject\":{\"reference\":\"" + patientRef + "\"}}"});
            }
        }
        out.add(new String[] {"DocumentReference", pid + "-doc-1", "{\"resourceType\":\"DocumentReference\","
                + "\"id\":\"" + pid + "-doc-1\",\"status\":\"current\",\"subject\":{\"reference\":\"" + patientRef
                + "\"},\"content\":[{\"attachment\":{\"contentType\":\"text/plain\",\"data\":\""
                + Base64.getEncoder().encodeToString(("Clinical note of " + pid).getBytes(StandardCharsets.UTF_8))
                + "\"}}]}"});
        return out;
    }

    private static void error(HttpExchange ex, int code, String message, String error) throws IOException {
        sendJson(ex, code, "{\"statusCode\":" + code + ",\"message\":\"" + message + "\",\"error\":\"" + error + "\"}");
    }

    private static void outcome(HttpExchange ex, int code, String issue, String text) throws IOException {
        send(ex, code, "application/fhir+json", ("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
                + "\"error\",\"code\":\"" + issue + "\",\"diagnostics\":\"" + text + "\"}]}")
                .getBytes(StandardCharsets.UTF_8));
    }

    private static int intParam(String v, int dflt) {
        try {
            return v == null ? dflt : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> params = new LinkedHashMap<>();
        if (raw == null || raw.isBlank()) {
            return params;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            params.put(decode(eq < 0 ? pair : pair.substring(0, eq)), eq < 0 ? "" : decode(pair.substring(eq + 1)));
        }
        return params;
    }
}
