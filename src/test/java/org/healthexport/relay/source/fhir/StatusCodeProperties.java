package org.healthexport.relay.source.fhir;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.healthexport.relay.testing.RouteChoice;

import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * FHIR Bulk Data (and Oracle Health, on the same protocol) signal a job's status with the HTTP code: the status
 * routes' choices (real Simple predicates) take the manifest only on a 200 and keep polling only on a 202; any
 * other code, 2xx and 3xx included, is never taken for done.
 */
class StatusCodeProperties {
    private static final String FIRST = "${header.CamelHttpResponseCode} == 202";
    private static final RouteChoice FHIR = RouteChoice.in("fhir-bulk.camel.yaml", FIRST, "complete");
    private static final RouteChoice ORACLE = RouteChoice.in("oracle-health.camel.yaml", FIRST, "complete");

    @Property(tries = 300)
    void onlyA200IsComplete(@ForAll @IntRange(min = 100, max = 599) int code) {
        for (RouteChoice choice : new RouteChoice[] {FHIR, ORACLE}) {
            Set<String> branch = choice.branch(null, Map.of("CamelHttpResponseCode", code), Map.of());
            assertThat(branch.contains("complete")).as("HTTP %d", code).isEqualTo(code == 200);
            assertThat(branch.contains("inProgress")).as("HTTP %d", code).isEqualTo(code == 202);
        }
    }

    @Example
    void theRoutesChoicesAreTheOnesEvaluated() {
        assertThat(FHIR.branch(null, Map.of("CamelHttpResponseCode", 204), Map.of())).contains("unknownAnswer");
        assertThat(ORACLE.branch(null, Map.of("CamelHttpResponseCode", 200), Map.of())).contains("complete", "expired");
    }
}
