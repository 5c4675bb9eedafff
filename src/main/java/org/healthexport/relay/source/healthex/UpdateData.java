package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.ExchangeProperty;
import org.healthexport.relay.http.BoundedBody;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobUpdate;
import org.healthexport.relay.source.fhir.MalformedStatusException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.Map;

/**
 * The {@code $updateData} step of a HealthEx job: its request body ({@code skipInteractive} when configured),
 * reading its answer, and the job's next state for each outcome the route picks: IN_PROGRESS_NO_ACTION_NEEDED
 * (RUNNING: watch the retrieval, or wait {@code pull-after} without a patient login), PATIENT_ACTION_NEEDED
 * (ACTION_NEEDED with the reason and what to do), 404, 403 and a paused or inactive study (FAILED).
 */
public class UpdateData {
    private static final Logger LOG = LoggerFactory.getLogger(UpdateData.class);
    static final String REASON = "patientActionNeededReason";
    static final String SUGGESTED_ACTION = "suggestedAction";
    private static final long MAX_BODY = 1024 * 1024;
    private static final Map<String, String> REASONS = Map.of(
            "CONSENT_EXPIRED", "the patient's consent has expired",
            "CONSENT_NOT_FOUND", "HealthEx holds no consent of the patient for this project",
            "CONSENT_REVOKED", "the patient revoked their consent",
            "UNLOCKED_OR_NO_TARGETED_LIST", "the patient's list of targeted facilities is unlocked or missing",
            "AUTHENTICATION_EXPIRED", "the patient's authentication with a facility has expired",
            "AUTHENTICATION_NEEDED_NEW_FACILITY", "a new facility needs the patient to authenticate");

    private final Map<String, HealthexSource> sources;
    private final HealthexPatients patients;
    private final JobLifecycle jobs;
    private final ObjectMapper json = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public UpdateData(Map<String, HealthexSource> sources, HealthexPatients patients, JobLifecycle jobs) {
        this.sources = sources;
        this.patients = patients;
        this.jobs = jobs;
    }

    /** The request body: {@code {"skipInteractive": b}} from the job (API) or the source, else {@code {}}. */
    public String body(@ExchangeProperty("job") ExportJob job) {
        String fromJob = job.attribute(HealthexJobs.SKIP_INTERACTIVE);
        Boolean skip = fromJob != null ? Boolean.valueOf(fromJob) : sources.get(job.sourceId()).skipInteractive();
        return skip == null ? "{}" : "{\"skipInteractive\":" + skip + "}";
    }

    /** Reads a 2xx answer; a body that is not the documented JSON is retried with backoff. */
    public UpdateDataAnswer read(InputStream body) throws IOException {
        try (InputStream in = BoundedBody.limit(body, MAX_BODY, "$updateData answer")) {
            UpdateDataAnswer answer = json.readValue(in, UpdateDataAnswer.class);
            if (answer == null) {
                throw new MalformedStatusException("$updateData answered an empty body");
            }
            return answer;
        } catch (IOException e) {
            throw new MalformedStatusException("$updateData answer is not the documented JSON: "
                    + e.getClass().getSimpleName());
        }
    }

    /**
     * IN_PROGRESS_NO_ACTION_NEEDED: the retrievalId and counts become attributes; the job watches the
     * retrieval status at once when the patient's login is configured, else waits {@code pull-after}.
     */
    public ExportJob inProgress(@ExchangeProperty("job") ExportJob job, UpdateDataAnswer answer) {
        HealthexSource source = sources.get(job.sourceId());
        Instant now = jobs.store().now();
        boolean watch = patients.hasLogin(job);
        String retrieval = answer.retrievalId();
        JobUpdate u = JobUpdate.to(JobState.RUNNING).vendorStatus(answer.message()).attempts(0).clearLastError()
                // a 401 answered by a new token is behind us: the status poll may renew its own token once
                .attribute("authRetried", null).attribute("unknownStatus", null)
                .attribute(HealthexJobs.UPDATE_MESSAGE, answer.message())
                .attribute(HealthexJobs.UPDATE_AT, now.toString())
                .attribute("skippedFacilitiesCount", str(answer.skippedFacilitiesCount()));
        answer.counts().forEach((name, value) -> u.attribute("counts." + name, String.valueOf(value)));
        if (retrieval != null && !retrieval.isBlank()) {
            u.attribute(HealthexJobs.RETRIEVAL_ID, retrieval).vendorJobId(retrieval);
        }
        if (watch) {
            u.progress("data update in progress" + (retrieval == null ? "" : " (retrieval " + retrieval + ")")
                    + "; watching the data-retrieval status").nextPollAt(now);
        } else {
            u.progress("data update in progress; no patient login configured, records pulled after "
                    + source.pullAfter()).nextPollAt(now.plus(source.pullAfter()));
        }
        LOG.info("Job {}: $updateData for patient {} is {} (retrieval {})", job.id(),
                job.attribute(HealthexJobs.PATIENT_ID), answer.message(), retrieval);
        return jobs.transition(job, u);
    }

    /** PATIENT_ACTION_NEEDED: ACTION_NEEDED, and a notification naming the patient, the reason and the action. */
    public ExportJob patientActionNeeded(@ExchangeProperty("job") ExportJob job, UpdateDataAnswer answer) {
        String code = answer.patientActionNeededReason();
        String why = code == null ? "HealthEx needs the patient to act" : REASONS.getOrDefault(code,
                "HealthEx needs the patient to act");
        String patient = job.attribute(HealthexJobs.PATIENT_ID);
        String external = job.attribute(HealthexJobs.EXTERNAL_ID);
        String reason = UpdateDataAnswer.PATIENT_ACTION_NEEDED + " (" + (code == null ? "no reason given" : code)
                + "): " + why;
        String action = "Send patient " + patient + (external == null ? "" : " (externalId " + external + ")")
                + " the same HealthEx link that was used to get their data originally; HealthEx delivers the "
                + "updated data when they go through the flow again, and the next trigger of this patient "
                + "picks it up.";
        LOG.warn("Job {} of source {}: patient {} must act at HealthEx ({})", job.id(), job.sourceId(), patient,
                code);
        return jobs.transition(job, JobUpdate.to(JobState.ACTION_NEEDED).vendorStatus(answer.message())
                .lastError(reason).nextPollAt(jobs.store().now())
                .attribute(HealthexJobs.UPDATE_MESSAGE, answer.message())
                .attribute(HealthexJobs.UPDATE_AT, jobs.store().now().toString())
                .attribute(REASON, code == null ? "UNKNOWN" : code)
                .attribute(SUGGESTED_ACTION, action));
    }

    /** 404: the project or the patient is unknown to HealthEx (or not visible to this API client). */
    public ExportJob unknownProjectOrPatient(@ExchangeProperty("job") ExportJob job,
                                             HealthexErrors.HealthexError error) {
        return failed(job, error.httpCode(), "HealthEx does not know project " + job.attribute(HealthexJobs.PROJECT_ID)
                + " or patient " + job.attribute(HealthexJobs.PATIENT_ID) + " (" + error.text() + "); check "
                + "project-id, and add the patient to the project with Add/Update Patient",
                "Check project-id and that the patient was added to the project (Add/Update Patient), then "
                        + "trigger the patient again");
    }

    /** 403: this API client may not update the patient's data. */
    public ExportJob notAllowed(@ExchangeProperty("job") ExportJob job, HealthexErrors.HealthexError error) {
        return failed(job, error.httpCode(), "HealthEx does not allow this API client to update patient "
                + job.attribute(HealthexJobs.PATIENT_ID) + " of project " + job.attribute(HealthexJobs.PROJECT_ID)
                + " (" + error.text() + ")",
                "Use an External Researcher API client with access to the project and the patient's "
                        + "organization, then trigger the patient again");
    }

    /** Any other final refusal: a paused or inactive study, or a request HealthEx will not take. */
    public ExportJob refused(@ExchangeProperty("job") ExportJob job, HealthexErrors.HealthexError error) {
        if (error.isStudyNotActive()) {
            return failed(job, error.httpCode(), "HealthEx refused $updateData: study "
                    + job.attribute(HealthexJobs.PROJECT_ID) + " is paused or not active (" + error.text() + ")",
                    "Resume or reactivate the study at HealthEx, then trigger the patient again");
        }
        return failed(job, error.httpCode(), "HealthEx refused $updateData for patient "
                + job.attribute(HealthexJobs.PATIENT_ID) + " (" + error.text() + ")", null);
    }

    /** FAILED with the reason and the action, and the one job.fault line (fault=fatal, HealthEx's HTTP code). */
    private ExportJob failed(ExportJob job, int httpCode, String reason, String action) {
        JobUpdate u = JobUpdate.keepState();
        if (action != null) {
            u.attribute(SUGGESTED_ACTION, action);
        }
        return jobs.failAnswer(job, httpCode, reason, u);
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }
}
