package org.healthexport.relay.source.healthex;

import org.apache.camel.ExchangeProperty;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.NewJob;
import org.healthexport.relay.source.JobAdopter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Where HealthEx jobs come from: one job per patient per trigger (a scheduled or on-demand kick-off of every
 * configured patient, or {@code POST /api/jobs} for one patient). A job is created SUBMITTED with the patient's
 * ids; its first status step sends {@code $updateData}. A patient whose job is still active is not triggered
 * again: the job in flight delivers the retrieval it watches.
 */
public class HealthexJobs implements JobAdopter {
    private static final Logger LOG = LoggerFactory.getLogger(HealthexJobs.class);
    public static final String PATIENT_ID = "healthexPatientId";
    public static final String EXTERNAL_ID = "externalId";
    public static final String PROJECT_ID = "projectId";
    public static final String ORG_ID = "orgId";
    public static final String TRIGGER = "trigger";
    public static final String REQUESTED_RETRIEVAL = "requestedRetrievalId";
    public static final String SKIP_INTERACTIVE = "skipInteractive";
    public static final String RETRIEVAL_ID = "retrievalId";
    public static final String UPDATE_MESSAGE = "updateDataMessage";
    public static final String UPDATE_AT = "updateDataAt";
    /** The attributes a job is created with: they make its identity (dedup key) and never change. */
    static final Set<String> CREATION_KEYS = Set.of(PATIENT_ID, EXTERNAL_ID, PROJECT_ID, ORG_ID, TRIGGER,
            REQUESTED_RETRIEVAL, SKIP_INTERACTIVE);

    private final Map<String, HealthexSource> sources;
    private final HealthexPatients patients;
    private final JobStore store;
    private final JobLifecycle jobs;

    public HealthexJobs(Map<String, HealthexSource> sources, HealthexPatients patients, JobStore store,
                        JobLifecycle jobs) {
        this.sources = sources;
        this.patients = patients;
        this.store = store;
        this.jobs = jobs;
    }

    /**
     * Kick-off route ({@code direct:kickoff-healthex}, on the source's schedule or {@code POST
     * /api/sources/{id}/run}): a job for every configured patient without one in flight.
     */
    public synchronized Map<String, Object> kickOff(@ExchangeProperty("sourceId") String sourceId) {
        HealthexSource source = sources.get(sourceId);
        String trigger = "kickoff:" + UUID.randomUUID();
        Map<String, ExportJob> active = activeByPatient(sourceId);
        List<Map<String, String>> created = new ArrayList<>();
        List<Map<String, String>> inFlight = new ArrayList<>();
        for (HealthexPatient p : patients.patients(sourceId)) {
            ExportJob running = active.get(p.healthexPatientId());
            if (running != null) {
                inFlight.add(Map.of("job", running.id(), PATIENT_ID, p.healthexPatientId()));
                continue;
            }
            ExportJob job = jobs.submit(newJob(source, p.healthexPatientId(), p.externalId(), trigger, null, null))
                    .job();
            created.add(Map.of("job", job.id(), PATIENT_ID, p.healthexPatientId()));
        }
        LOG.info("Kick-off of HealthEx source {}: {} job(s) created, {} patient(s) with a job in flight", sourceId,
                created.size(), inFlight.size());
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("source", sourceId);
        summary.put("trigger", trigger);
        summary.put("created", created);
        summary.put("alreadyActive", inFlight);
        return summary;
    }

    /**
     * {@code POST /api/jobs} with {@code {"source", "patientId", "externalId"?, "retrievalId"?,
     * "skipInteractive"?}}. With a retrievalId the job adopts that retrieval (no {@code $updateData}; the same
     * retrieval adopted twice is one job); without one it is a new trigger, unless the patient's job is still in
     * flight, which is then answered.
     */
    @Override
    public NewJob adopt(SourceConfig config, Map<String, Object> request) {
        HealthexSource source = sources.get(config.id());
        Object rawId = request.containsKey("patientId") ? request.get("patientId") : request.get(PATIENT_ID);
        if (!(rawId instanceof String patientId) || !PatientsFile.PATIENT_ID.matcher(patientId).matches()) {
            throw new IllegalArgumentException("A healthex job needs \"patientId\": the HealthEx patient id "
                    + "(letters, digits, '.', '_', ':' or '-')");
        }
        String externalId = text(request, EXTERNAL_ID, 200);
        if (externalId == null) {
            externalId = patients.find(config.id(), patientId).map(HealthexPatient::externalId).orElse(null);
        }
        String retrievalId = text(request, "retrievalId", 200);
        Object skip = request.get(SKIP_INTERACTIVE);
        if (skip != null && !(skip instanceof Boolean)) {
            throw new IllegalArgumentException("\"skipInteractive\" must be true or false");
        }
        if (retrievalId != null) {
            return newJob(source, patientId, externalId, "retrieval:" + retrievalId, retrievalId, (Boolean) skip);
        }
        ExportJob running = activeByPatient(config.id()).get(patientId);
        if (running != null) {
            // the same identity as the job in flight: the API answers that job (200) instead of a second one
            return sameAs(running);
        }
        // The trigger names the patient's previous job: requests that race past the check above (two replicas, two
        // API calls at once) make the same trigger, so the store's adoption key keeps them to one job. A request
        // that reads the previous job after a racing one stored its job finds that job, still active: it answers
        // that job, rather than naming it as the previous one and making a second.
        Optional<ExportJob> previous = store.latestJobWith(config.id(), PATIENT_ID, patientId);
        if (previous.isPresent() && !previous.get().state().isTerminal()) {
            return sameAs(previous.get());
        }
        String after = previous.map(ExportJob::id).orElse("none");
        return newJob(source, patientId, externalId, "api:" + patientId + ":after:" + after, null, (Boolean) skip);
    }

    /**
     * The API's job is checked and created under the kick-off's lock: a kick-off of many patients reads the jobs in
     * flight once, then creates one job after another, so a request for a patient it has not reached yet would
     * otherwise make a job the kick-off then makes again. (Across replicas, the scheduled kick-off runs on one of
     * them; a request to another at that moment can still race it: docs/healthex.md.)
     */
    @Override
    public synchronized JobStore.Adoption submit(SourceConfig config, Map<String, Object> request,
                                                 JobLifecycle lifecycle) {
        return lifecycle.submit(adopt(config, request));
    }

    /** Route condition: the job has not sent {@code $updateData} yet (and adopted no retrieval). */
    public boolean needsUpdateData(@ExchangeProperty("job") ExportJob job) {
        return job.attribute(RETRIEVAL_ID) == null && job.attribute(UPDATE_MESSAGE) == null;
    }

    NewJob newJob(HealthexSource source, String patientId, String externalId, String trigger, String retrievalId,
                  Boolean skipInteractive) {
        Map<String, String> attributes = new LinkedHashMap<>();
        attributes.put(PATIENT_ID, patientId);
        attributes.put(PROJECT_ID, source.projectId());
        source.org().ifPresent(org -> attributes.put(ORG_ID, org));
        if (externalId != null) {
            attributes.put(EXTERNAL_ID, externalId);
        }
        attributes.put(TRIGGER, trigger);
        if (retrievalId != null) {
            attributes.put(REQUESTED_RETRIEVAL, retrievalId);
            attributes.put(RETRIEVAL_ID, retrievalId);
        }
        if (skipInteractive != null) {
            attributes.put(SKIP_INTERACTIVE, skipInteractive.toString());
        }
        return new NewJob(source.id(), HealthexKind.NAME, null, null,
                source.updateDataUrl(patientId).toString(), attributes);
    }

    static NewJob sameAs(ExportJob job) {
        Map<String, String> attributes = new LinkedHashMap<>();
        job.attributes().forEach((k, v) -> {
            if (CREATION_KEYS.contains(k)) {
                attributes.put(k, v);
            }
        });
        if (attributes.containsKey(REQUESTED_RETRIEVAL)) {
            attributes.put(RETRIEVAL_ID, attributes.get(REQUESTED_RETRIEVAL));
        }
        return new NewJob(job.sourceId(), job.kind(), null, null, job.requestUrl(), attributes);
    }

    private Map<String, ExportJob> activeByPatient(String sourceId) {
        return store.activeJobsOf(sourceId).stream().filter(j -> j.attribute(PATIENT_ID) != null)
                .collect(Collectors.toMap(j -> j.attribute(PATIENT_ID), j -> j, (a, b) -> a));
    }

    private static String text(Map<String, Object> request, String name, int max) {
        Object v = request.get(name);
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s) || s.isBlank() || s.length() > max) {
            throw new IllegalArgumentException("\"" + name + "\" must be a non-empty string of at most " + max
                    + " characters");
        }
        return s.trim();
    }
}
