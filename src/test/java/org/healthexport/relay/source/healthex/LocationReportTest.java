package org.healthexport.relay.source.healthex;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

class LocationReportTest {
    static RetrievalStatus.Location loc(String id, String name, String status) {
        return new RetrievalStatus.Location(id, name, "TEFCA_DOCUMENT", status, null, 1);
    }

    @Test
    void summaryNamesLostLocationsByIdOnly() {
        LocationReport r = new LocationReport("b-1", "IN_PROGRESS", "IN_PROGRESS");
        r.add(loc("loc-1", "General Hospital", "COMPLETE"), LocationReport.RETRIEVED, null);
        r.add(loc("loc-2", "Clinic", "IN_PROGRESS"), LocationReport.PENDING, null);
        r.add(loc("loc-3", "Lab", "ERROR"), LocationReport.LOST, "error");
        assertThat(r.summary()).isEqualTo("3 locations: 1 retrieved, 1 pending, 1 with lost data (loc-3 ERROR)");
        assertThat(r.hasProblems()).isTrue();
        assertThat(r.summary()).doesNotContain("Hospital");
    }

    @Test
    void finishingTurnsPendingLocationsIntoLostOnes() {
        LocationReport r = new LocationReport("b-1", "COMPLETE", "FAILED");
        r.add(loc("loc-1", null, "NOT_STARTED"), LocationReport.PENDING, null);
        r.vectorizationFailed();
        r.finish().finish();
        assertThat(r.problems()).singleElement().satisfies(e -> {
            assertThat(e.outcome()).isEqualTo(LocationReport.LOST);
            assertThat(e.note()).contains("still NOT_STARTED");
        });
        assertThat(r.summary()).endsWith("; vectorization FAILED");
        assertThat(r.toMap()).containsEntry("vectorizationFailed", true)
                .containsEntry("locationsWithLostData", List.of("loc-1"));
    }

    @Test
    void nothingToReportWhenEveryLocationCompleted() {
        LocationReport r = new LocationReport("b-1", "COMPLETE", "COMPLETE");
        r.add(loc("loc-1", null, "COMPLETE"), LocationReport.RETRIEVED, null);
        assertThat(r.finish().hasProblems()).isFalse();
        assertThat(r.summary()).isEqualTo("1 location: 1 retrieved, 0 pending");
    }
}
