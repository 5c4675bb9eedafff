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
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Where HealthEx jobs come from: one job per patient per trigger (a scheduled or on-demand kick-off of every
 * configured patient, or {@code POST /api/jobs} for one patient). A job is created SUBMITTED with the patient's
 * ids; its first status step sends {@code $updateData}. A patient whose job is still active is not triggered
 * again: the job in flight delivers the retrieval it watches. The store enforces it, across replicas too: such a
 * job holds its patient's slot until it ends ({@link NewJob#holdingSlot}).
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
    public Map<String, Object> kickOff(@ExchangeProperty("sourceId") String sourceId) {
        HealthexSource source = sources.get(sourceId);
        String trigger = "kickoff:" + UUID.randomUUID();
        Map<String, ExportJob> active = activeByPatient(sourceId);
        List<Map<String, String>> created = new ArrayList<>();
        List<Map<String, String>> inFlight = new ArrayList<>();
        for (HealthexPatient p : patients.patients(sourceId)) {
            ExportJob running = active.get(p.healthexPatientId());
            if (running == null) {
                // the patient's slot: a job made for the patient since the read above (an API request, another
                // replica's kick-off) is answered here instead of a second one
                JobStore.Adoption adoption = jobs.submit(newJob(source, p.healthexPatientId(), p.externalId(),
                        trigger, null, null));
                if (adoption.created()) {
                    created.add(Map.of("job", adoption.job().id(), PATIENT_ID, p.healthexPatientId()));
                    continue;
                }
                running = adoption.job();
            }
            inFlight.add(Map.of("job", running.id(), PATIENT_ID, p.healthexPatientId()));
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
     * retrieval adopted twice is one job); without one it is a new trigger, holding the patient's slot.
     */
    @Override
    public NewJob adopt(SourceConfig config, Map<String, Object> request) {
        HealthexSource source = sources.get(config.id());
        String patientId = patientId(request);
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
        return newJob(source, patientId, externalId, "api:" + UUID.randomUUID(), null, (Boolean) skip);
    }

    /**
     * A request for a patient whose job is still in flight answers that job (200). Otherwise the new job holds the
     * patient's slot: of requests and kick-offs that race past this check, on one replica or several, the store
     * keeps the first job and answers it to the others.
     */
    @Override
    public JobStore.Adoption submit(SourceConfig config, Map<String, Object> request, JobLifecycle lifecycle) {
        if (request.get("retrievalId") == null) {
            List<ExportJob> running = store.activeJobsWith(config.id(), PATIENT_ID, patientId(request));
            if (!running.isEmpty()) {
                return new JobStore.Adoption(running.get(0), false);
            }
        }
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
        NewJob job = new NewJob(source.id(), HealthexKind.NAME, null, null,
                source.updateDataUrl(patientId).toString(), attributes);
        // a retrieval adopted by id is its own job; every other job is the patient's one job in flight
        return retrievalId != null ? job : job.holdingSlot("patient:" + patientId);
    }

    private Map<String, ExportJob> activeByPatient(String sourceId) {
        return store.activeJobsOf(sourceId).stream().filter(j -> j.attribute(PATIENT_ID) != null)
                .collect(Collectors.toMap(j -> j.attribute(PATIENT_ID), j -> j, (a, b) -> a));
    }

    private static String patientId(Map<String, Object> request) {
        Object id = request.containsKey("patientId") ? request.get("patientId") : request.get(PATIENT_ID);
        if (!(id instanceof String patientId) || !PatientsFile.PATIENT_ID.matcher(patientId).matches()) {
            throw new IllegalArgumentException("A healthex job needs \"patientId\": the HealthEx patient id "
                    + "(letters, digits, '.', '_', ':' or '-')");
        }
        return patientId;
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
