package org.healthexport.relay.source.ehealth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.healthexport.relay.testing.RouteChoice;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.healthexport.relay.testing.JsonArbitraries.anyValue;
import static org.healthexport.relay.testing.JsonArbitraries.arrayOf;
import static org.healthexport.relay.testing.JsonArbitraries.objectWith;
import static org.healthexport.relay.testing.JsonArbitraries.text;
import static org.healthexport.relay.testing.JsonArbitraries.write;

/**
 * eHealth job answers of any shape and HTTP code: parse gives a status or an {@link EhealthResponseException}, and
 * the status route (its real Simple predicates) delivers a job only when eHealth said {@code processed} on a 200
 * or 303; no other status value is taken for done.
 */
class EhealthStatusProperties {
    private static final RouteChoice STATUS = RouteChoice.in("ehealth-jobs.camel.yaml",
            "${body.status} == 'pending' && ${body.httpCode} in '200,202'");
    private static final Set<String> DONE = Set.of("responseData", "linkedEntities");
    private static final EhealthStatus BEAN;

    static {
        try {
            BEAN = new EhealthFixture().status();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Provide
    Arbitrary<JsonNode> answers() {
        Arbitrary<JsonNode> status = Arbitraries.oneOf(
                text("pending", "processed", "PROCESSED", " processed ", "processed\u0000", "processed_with_errors",
                        "processing", "failed", "failed_with_error", "done", "complete", "", "process ed", "pro,cessed"),
                Arbitraries.of(1, 0).map(JsonNodeFactory.instance::numberNode), anyValue(1));
        Map<String, Arbitrary<JsonNode>> data = new LinkedHashMap<>();
        data.put("status", status);
        data.put("eta", text("2018-08-02T10:45:16.000Z", "2018-08-02T10:45:16", "+999999999-12-31T23:59:59Z", "soon"));
        data.put("links", arrayOf(objectWith(Map.of("entity", text("encounter", "job", "../x"), "href",
                text("{host}/api/encounters/1", "/api/x/2", "https://evil.test/x", "http://[bad"))), 3));
        data.put("status_code", text("200", "422"));
        data.put("error", anyValue(2));
        data.put("response_data", anyValue(2));
        return Arbitraries.oneOf(objectWith(Map.of("data", objectWith(data),
                "meta", objectWith(Map.of("request_id", text("req-1"), "code", text("200"))),
                "error", anyValue(1))), anyValue(2));
    }

    @Provide
    Arbitrary<Integer> codes() {
        return Arbitraries.of(200, 202, 303, 201, 204, 302, 400, 401, 403, 404, 408, 429, 500, 503, 0);
    }

    @Property(tries = 500)
    void onlyProcessedOnA200Or303IsDelivered(@ForAll("answers") JsonNode answer, @ForAll("codes") int code) {
        EhealthJobStatus status;
        try {
            status = BEAN.parse(code, write(answer).getBytes(StandardCharsets.UTF_8));
        } catch (EhealthResponseException documented) {
            return;
        }
        Set<String> branch = STATUS.branch(status, Map.of(), Map.of());
        assertThat(branch).isNotEmpty();
        if (branch.stream().anyMatch(DONE::contains)) {
            JsonNode sent = answer.path("data").path("status");
            assertThat(sent.asText().strip().toLowerCase(Locale.ROOT)).as(write(answer)).isEqualTo("processed");
            assertThat(code).isIn(200, 303);
        }
        // the eta is only a hint: any text reads as an instant or as none
        EhealthStatus.eta(answer.path("data").path("eta").asText(null));
    }

    @Example
    void theRoutesChoiceIsTheOneEvaluated() {
        assertThat(STATUS.branch(status(200, "processed"), Map.of(), Map.of())).contains("linkedEntities");
        assertThat(STATUS.branch(status(303, "processed"), Map.of(), Map.of())).contains("linkedEntities");
        assertThat(STATUS.branch(status(200, "pending"), Map.of(), Map.of())).contains("pending");
        assertThat(STATUS.branch(status(200, "done"), Map.of(), Map.of())).contains("unknownStatusAnswer")
                .doesNotContainAnyElementsOf(DONE);
        assertThat(STATUS.branch(status(202, "processed"), Map.of(), Map.of())).doesNotContainAnyElementsOf(DONE);
    }

    private static EhealthJobStatus status(int code, String status) {
        return new EhealthJobStatus(code, status, null, null, null, List.of(), null, null, null, null);
    }
}
