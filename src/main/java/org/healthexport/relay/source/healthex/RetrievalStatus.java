package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The patient's data-retrieval status ({@code GET /v1/patients/data-retrieval/status}): the overall
 * {@code dataRetrievalStatus} (IN_PROGRESS, COMPLETE), {@code vectorizationStatus} (IN_PROGRESS, COMPLETE, FAILED),
 * and one status per healthcare location. {@code body} is the answer as received, delivered in status.json.
 */
public record RetrievalStatus(
        String patientId,
        String retrievalId,
        String dataRetrievalStatus,
        String vectorizationStatus,
        String createdAt,
        String updatedAt,
        List<Location> locations,
        JsonNode body) {

    public static final String IN_PROGRESS = "IN_PROGRESS";
    public static final String COMPLETE = "COMPLETE";
    public static final String FAILED = "FAILED";

    /**
     * One healthcare location: {@code dataRetrievalStatus} is NOT_STARTED, IN_PROGRESS, COMPLETE,
     * PARTIAL_COMPLETE, SKIPPED or ERROR; {@code locationSource} TEFCA_DOCUMENT, TEFCA_ENDPOINT or USER_SELECTED.
     */
    public record Location(String locationId, String locationName, String locationSource,
                           String dataRetrievalStatus, String updatedAt, Integer documentCount) {

        /** The id, else the name: how a location is named in reports. */
        public String label() {
            return locationId != null ? locationId : locationName != null ? locationName : "(unnamed location)";
        }
    }

    public RetrievalStatus {
        locations = locations == null ? List.of() : List.copyOf(locations);
    }

    public static RetrievalStatus of(JsonNode root) {
        List<Location> locations = new ArrayList<>();
        for (JsonNode l : root.path("locations")) {
            locations.add(new Location(text(l, "locationId"), text(l, "locationName"), text(l, "locationSource"),
                    text(l, "dataRetrievalStatus"), text(l, "updatedAt"),
                    l.path("documentCount").isNumber() ? l.path("documentCount").asInt() : null));
        }
        return new RetrievalStatus(text(root, "patientId"), text(root, "retrievalId"),
                text(root, "dataRetrievalStatus"), text(root, "vectorizationStatus"), text(root, "createdAt"),
                text(root, "updatedAt"), locations, root);
    }

    /** When the retrieval was initiated, if HealthEx said so readably. */
    public Optional<Instant> created() {
        if (createdAt == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(OffsetDateTime.parse(createdAt).toInstant());
        } catch (RuntimeException e) {
            try {
                return Optional.of(Instant.parse(createdAt));
            } catch (RuntimeException e2) {
                return Optional.empty();
            }
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.path(field);
        return v.isNull() || v.isMissingNode() ? null : v.asText();
    }
}
