package org.healthexport.relay.source.redox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.healthexport.relay.source.fhir.MalformedStatusException;
import org.healthexport.relay.testing.RouteChoice;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.healthexport.relay.testing.JsonArbitraries.anyValue;
import static org.healthexport.relay.testing.JsonArbitraries.arrayOf;
import static org.healthexport.relay.testing.JsonArbitraries.objectWith;
import static org.healthexport.relay.testing.JsonArbitraries.text;
import static org.healthexport.relay.testing.JsonArbitraries.write;

/**
 * Redox status answers of any shape: read gives a status check or a {@link MalformedStatusException}, and the
 * status route (its real Simple predicates) completes a job only on status 200 and keeps polling only on 202;
 * any other status is never taken for done.
 */
class RedoxStatusProperties {
    private static final RouteChoice STATUS = RouteChoice.in("redox-bulk.camel.yaml", "${body.isRunning}");
    private final RedoxStatus redox = new RedoxStatus(null, null);

    @Provide
    Arbitrary<JsonNode> answers() {
        Arbitrary<JsonNode> status = Arbitraries.oneOf(
                text("200", "202", "0200", " 200 ", "200.0", "２００", "200 OK", "complete", "COMPLETE", "500", "404",
                        "429", "2e2", "+200", "-200", "\u0000200"),
                Arbitraries.of(200, 202, 500, 0, -200).map(JsonNodeFactory.instance::numberNode),
                Arbitraries.of(200.0, 202.5, 2e2).map(JsonNodeFactory.instance::numberNode),
                anyValue(1));
        Map<String, Arbitrary<JsonNode>> fields = new LinkedHashMap<>();
        fields.put("Meta", objectWith(Map.of("DataModel", text(RedoxStatus.DATA_MODEL), "EventType",
                text("status-check-response"), "Logs", arrayOf(objectWith(Map.of("ID", text("log-1"), "AttemptID",
                        text("a-1"))), 3))));
        fields.put("status", status);
        fields.put("progress", text("50%"));
        fields.put("output", arrayOf(objectWith(Map.of("type", text("Patient"), "url", text("https://x/1"))), 3));
        fields.put("transactionTime", text("2021-01-01T00:00:00Z"));
        return Arbitraries.oneOf(objectWith(fields), anyValue(2));
    }

    @Property(tries = 500)
    void onlyStatus200CompletesAndOnly202KeepsPolling(@ForAll("answers") JsonNode answer,
                                                     @ForAll("codes") int code) throws Exception {
        RedoxStatusCheck check;
        try {
            check = redox.read(code, null, write(answer).getBytes(StandardCharsets.UTF_8));
        } catch (MalformedStatusException documented) {
            return;
        }
        Set<String> branch = STATUS.branch(check, Map.of(), Map.of());
        assertThat(branch).as("status '%s'", check.status()).isNotEmpty();
        if (branch.contains("complete")) {
            assertThat(check.status()).isEqualTo("200");
        }
        if (branch.contains("stillRunning")) {
            assertThat(check.status()).isEqualTo("202");
        }
        if (!check.status().equals("200") && !check.status().equals("202")) {
            assertThat(branch).as("status '%s'", check.status()).doesNotContain("complete", "stillRunning");
        }
    }

    /** The choice read from the route file takes the documented branches (so the property above is not vacuous). */
    @net.jqwik.api.Example
    void theRoutesChoiceIsTheOneEvaluated() {
        assertThat(STATUS.branch(check("200"), Map.of(), Map.of())).contains("complete");
        assertThat(STATUS.branch(check("202"), Map.of(), Map.of())).contains("stillRunning");
        assertThat(STATUS.branch(check("500"), Map.of(), Map.of())).contains("retryAnswer").doesNotContain("complete");
        assertThat(STATUS.branch(check("done"), Map.of(), Map.of())).containsExactly("unknownStatusAnswer");
        // found by onlyStatus200CompletesAndOnly202KeepsPolling: Simple's == took these for 200 and 202
        assertThat(STATUS.branch(check("0200"), Map.of(), Map.of())).containsExactly("unknownStatusAnswer");
        assertThat(STATUS.branch(check("２００"), Map.of(), Map.of())).containsExactly("unknownStatusAnswer");
        assertThat(STATUS.branch(check("0202"), Map.of(), Map.of())).containsExactly("unknownStatusAnswer");
    }

    private static RedoxStatusCheck check(String status) {
        return new RedoxStatusCheck(status, null, null, null, null, "status-check-response", true);
    }

    @Provide
    Arbitrary<Integer> codes() {
        return Arbitraries.of(200, 202, 204, 201, 299);
    }
}
