package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The answer to {@code $updateData} (201 in the guide, 200 in the API reference):
 * {@code message} is IN_PROGRESS_NO_ACTION_NEEDED (with {@code retrievalId} and facility counts) or
 * PATIENT_ACTION_NEEDED (with {@code patientActionNeededReason}).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record UpdateDataAnswer(
        Integer code,
        String message,
        String retrievalId,
        Integer skippedFacilitiesCount,
        Map<String, Object> counts,
        String patientActionNeededReason) {

    public static final String IN_PROGRESS = "IN_PROGRESS_NO_ACTION_NEEDED";
    public static final String PATIENT_ACTION_NEEDED = "PATIENT_ACTION_NEEDED";

    public UpdateDataAnswer {
        Map<String, Object> kept = new LinkedHashMap<>();
        if (counts != null) {
            counts.forEach((k, v) -> {
                if (k != null && v != null) {
                    kept.put(k, v);
                }
            });
        }
        counts = Collections.unmodifiableMap(kept);
    }
}
