package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.databind.JsonNode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.healthexport.relay.source.fhir.MalformedStatusException;
import org.healthexport.relay.testing.RouteChoice;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.healthexport.relay.testing.JsonArbitraries.anyValue;
import static org.healthexport.relay.testing.JsonArbitraries.arrayOf;
import static org.healthexport.relay.testing.JsonArbitraries.objectWith;
import static org.healthexport.relay.testing.JsonArbitraries.text;
import static org.healthexport.relay.testing.JsonArbitraries.write;

/**
 * HealthEx data-retrieval statuses of any shape: read gives a status or a {@link MalformedStatusException}, and
 * the route's choices (real Simple predicates) pull the records only on COMPLETE and count a location as
 * retrieved only on its COMPLETE; an unknown value is never taken for done.
 */
class RetrievalStatusProperties {
    private static final RouteChoice OVERALL = RouteChoice.in("healthex.camel.yaml",
            "${exchangeProperty.retrieval.dataRetrievalStatus} == 'IN_PROGRESS'");
    private static final RouteChoice LOCATION = RouteChoice.in("healthex.camel.yaml",
            "${body.dataRetrievalStatus} == 'COMPLETE'");
    private final RetrievalWatch watch = new RetrievalWatch(Map.of(), null, null);

    @Provide
    Arbitrary<JsonNode> statuses() {
        Arbitrary<JsonNode> value = Arbitraries.oneOf(text("IN_PROGRESS", "COMPLETE", "complete", "COMPLETE ",
                "COMPLETED", "PARTIAL_COMPLETE", "NOT_STARTED", "SKIPPED", "ERROR", "FAILED", "", "COMP LETE",
                "COMPLETE,IN_PROGRESS"), anyValue(1));
        Map<String, Arbitrary<JsonNode>> location = new LinkedHashMap<>();
        location.put("locationId", text("loc-1"));
        location.put("locationName", text("Clinic"));
        location.put("dataRetrievalStatus", value);
        location.put("documentCount", anyValue(0));
        Map<String, Arbitrary<JsonNode>> fields = new LinkedHashMap<>();
        fields.put("patientId", text("p-1"));
        fields.put("retrievalId", text("r-1"));
        fields.put("dataRetrievalStatus", value);
        fields.put("vectorizationStatus", value);
        fields.put("createdAt", text("2026-11-29T10:00:00Z", "2026-11-29T10:00:00", "yesterday"));
        fields.put("locations", Arbitraries.oneOf(arrayOf(objectWith(location), 4), anyValue(1)));
        return Arbitraries.oneOf(objectWith(fields), anyValue(2));
    }

    @Property(tries = 500)
    void onlyCompleteIsDone(@ForAll("statuses") JsonNode body) throws Exception {
        RetrievalStatus status;
        try {
            status = watch.read(new ByteArrayInputStream(write(body).getBytes(StandardCharsets.UTF_8)));
        } catch (MalformedStatusException documented) {
            return;
        }
        status.created(); // a date HealthEx wrote badly is no date, not an exception
        var overall = OVERALL.branch(null, Map.of(), Map.of("retrieval", status));
        assertThat(overall).isNotEmpty();
        if (overall.contains("complete")) {
            assertThat(body.path("dataRetrievalStatus").isTextual()
                    && body.path("dataRetrievalStatus").asText().equals("COMPLETE")).as(write(body)).isTrue();
        }
        for (RetrievalStatus.Location l : status.locations()) {
            var branch = LOCATION.branch(l, Map.of(), Map.of());
            assertThat(branch).isNotEmpty();
            if (branch.contains("retrieved")) {
                assertThat(l.dataRetrievalStatus()).isEqualTo("COMPLETE");
            }
        }
    }

    @Example
    void theRoutesChoicesAreTheOnesEvaluated() {
        assertThat(OVERALL.branch(null, Map.of(), Map.of("retrieval", status("COMPLETE")))).contains("complete");
        assertThat(OVERALL.branch(null, Map.of(), Map.of("retrieval", status("IN_PROGRESS")))).contains("inProgress");
        assertThat(OVERALL.branch(null, Map.of(), Map.of("retrieval", status("DONE")))).containsExactly("unknownStatusAnswer");
        RetrievalStatus.Location done = new RetrievalStatus.Location("l", null, null, "COMPLETE", null, null);
        RetrievalStatus.Location odd = new RetrievalStatus.Location("l", null, null, "Complete", null, null);
        assertThat(LOCATION.branch(done, Map.of(), Map.of())).containsExactly("retrieved");
        assertThat(LOCATION.branch(odd, Map.of(), Map.of())).containsExactly("unknownLocationStatus");
    }

    private static RetrievalStatus status(String value) {
        return new RetrievalStatus("p", "r", value, null, null, null, List.of(), null);
    }
}
