package org.healthexport.relay.source.healthex;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one status poll says about each healthcare location, filled by the status route as it routes on each
 * location's status: retrieved (COMPLETE), pending (NOT_STARTED, IN_PROGRESS), lost (PARTIAL_COMPLETE, SKIPPED,
 * ERROR: data that will be missing or partial), unknown (a status the docs do not list). The summary names
 * locations by id only: it goes to the job's progress and to notifications, which carry no patient data.
 */
public class LocationReport {
    public static final String RETRIEVED = "retrieved";
    public static final String PENDING = "pending";
    public static final String LOST = "lost";
    public static final String UNKNOWN = "unknown";

    /** One location's line in the report. */
    public record Entry(String locationId, String locationName, String locationSource, String status,
                        Integer documentCount, String outcome, String note) {
    }

    private final String retrievalId;
    private final String dataRetrievalStatus;
    private final String vectorizationStatus;
    private final List<Entry> entries = new ArrayList<>();
    private boolean vectorizationFailed;
    private boolean finished;

    public LocationReport(String retrievalId, String dataRetrievalStatus, String vectorizationStatus) {
        this.retrievalId = retrievalId;
        this.dataRetrievalStatus = dataRetrievalStatus;
        this.vectorizationStatus = vectorizationStatus;
    }

    public static LocationReport of(RetrievalStatus status) {
        return new LocationReport(status.retrievalId(), status.dataRetrievalStatus(), status.vectorizationStatus());
    }

    public synchronized void add(RetrievalStatus.Location l, String outcome, String note) {
        entries.add(new Entry(l.locationId(), l.locationName(), l.locationSource(), l.dataRetrievalStatus(),
                l.documentCount(), outcome, note));
    }

    public synchronized void vectorizationFailed() {
        vectorizationFailed = true;
    }

    public synchronized boolean isVectorizationFailed() {
        return vectorizationFailed;
    }

    /**
     * The retrieval was finalized: a location still pending will not be retrieved any more, so its data is lost
     * as well.
     */
    public synchronized LocationReport finish() {
        if (!finished) {
            finished = true;
            for (int i = 0; i < entries.size(); i++) {
                Entry e = entries.get(i);
                if (e.outcome().equals(PENDING)) {
                    entries.set(i, new Entry(e.locationId(), e.locationName(), e.locationSource(), e.status(),
                            e.documentCount(), LOST, "still " + e.status() + " when the retrieval was finalized"));
                }
            }
        }
        return this;
    }

    public synchronized List<Entry> entries() {
        return List.copyOf(entries);
    }

    /** Locations whose data is missing or partial, or whose status the relay does not know. */
    public synchronized List<Entry> problems() {
        return entries.stream().filter(e -> e.outcome().equals(LOST) || e.outcome().equals(UNKNOWN)).toList();
    }

    /** Something must be reported: lost or unknown locations, or a failed vectorization. */
    public synchronized boolean hasProblems() {
        return vectorizationFailed || !problems().isEmpty();
    }

    public synchronized long count(String outcome) {
        return entries.stream().filter(e -> e.outcome().equals(outcome)).count();
    }

    /** {@code "3 locations: 1 retrieved, 1 pending, 1 lost (loc-2 ERROR); vectorization FAILED"}. */
    public synchronized String summary() {
        StringBuilder s = new StringBuilder();
        s.append(entries.size()).append(entries.size() == 1 ? " location: " : " locations: ")
                .append(count(RETRIEVED)).append(" retrieved, ").append(count(PENDING)).append(" pending");
        List<Entry> problems = problems();
        if (!problems.isEmpty()) {
            s.append(", ").append(problems.size()).append(" with lost data (").append(problemList()).append(')');
        }
        if (vectorizationFailed) {
            s.append("; vectorization FAILED");
        }
        return s.toString();
    }

    /** {@code "loc-2 ERROR, loc-3 SKIPPED"}. */
    public synchronized String problemList() {
        return String.join(", ", problems().stream().map(e -> (e.locationId() != null ? e.locationId()
                : "(location without id)") + " " + e.status()).toList());
    }

    /** The report as written into status.json. */
    public synchronized Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("retrievalId", retrievalId);
        m.put("dataRetrievalStatus", dataRetrievalStatus);
        m.put("vectorizationStatus", vectorizationStatus);
        m.put("vectorizationFailed", vectorizationFailed);
        m.put("summary", summary());
        m.put("locationsWithLostData", problems().stream().map(Entry::locationId).toList());
        m.put("locations", entries.stream().map(e -> {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("locationId", e.locationId());
            l.put("locationName", e.locationName());
            l.put("locationSource", e.locationSource());
            l.put("dataRetrievalStatus", e.status());
            l.put("documentCount", e.documentCount());
            l.put("outcome", e.outcome());
            l.put("note", e.note());
            return l;
        }).toList());
        return m;
    }

    @Override
    public String toString() {
        return summary();
    }
}
