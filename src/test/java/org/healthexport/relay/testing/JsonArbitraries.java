package org.healthexport.relay.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * JSON as a vendor might send it, for property tests of the status parsers: documents shaped like the expected
 * one whose fields are each missing, null, of the right type or of any other type.
 */
public final class JsonArbitraries {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonArbitraries() {
    }

    /** Any JSON value up to {@code depth} levels: scalars of every type, arrays, objects. */
    public static Arbitrary<JsonNode> anyValue(int depth) {
        Arbitrary<JsonNode> scalar = Arbitraries.oneOf(
                Arbitraries.just(NODES.nullNode()),
                Arbitraries.of(true, false).map(NODES::booleanNode),
                Arbitraries.integers().map(NODES::numberNode),
                Arbitraries.longs().map(NODES::numberNode),
                Arbitraries.doubles().map(NODES::numberNode),
                Arbitraries.strings().all().ofMaxLength(20).map(NODES::textNode),
                Arbitraries.of("", "200", "202", "COMPLETE", "processed", "https://x/1", "../../etc/passwd",
                        "2021-01-01T00:00:00Z", "null", "0", "-1").map(NODES::textNode));
        if (depth <= 0) {
            return scalar;
        }
        Arbitrary<JsonNode> child = Arbitraries.lazy(() -> anyValue(depth - 1));
        Arbitrary<JsonNode> array = child.list().ofMaxSize(4).map(items -> {
            ArrayNode a = NODES.arrayNode();
            items.forEach(a::add);
            return a;
        });
        Arbitrary<JsonNode> object = Combinators.combine(
                Arbitraries.strings().alpha().ofMaxLength(6).list().ofMaxSize(4), child.list().ofSize(4))
                .as((names, values) -> {
                    ObjectNode o = NODES.objectNode();
                    for (int i = 0; i < names.size(); i++) {
                        o.set(names.get(i), values.get(i));
                    }
                    return o;
                });
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, scalar), net.jqwik.api.Tuple.of(1, array), net.jqwik.api.Tuple.of(1, object));
    }

    /**
     * An object with the given fields, each missing (a third of the time), or one of its plausible values, or any
     * JSON value; plus a field nobody expects.
     */
    public static Arbitrary<JsonNode> objectWith(Map<String, Arbitrary<JsonNode>> fields) {
        List<Arbitrary<Optional<JsonNode>>> values = fields.values().stream()
                .map(plausible -> Arbitraries.oneOf(plausible, plausible, anyValue(2)).optional(0.7)).toList();
        List<String> names = List.copyOf(fields.keySet());
        return Combinators.combine(values).as(vs -> {
            ObjectNode o = NODES.objectNode();
            for (int i = 0; i < names.size(); i++) {
                int at = i;
                vs.get(i).ifPresent(v -> o.set(names.get(at), v));
            }
            return o;
        }).flatMap(o -> anyValue(1).optional(0.3).map(extra -> {
            extra.ifPresent(e -> o.set("unexpected", e));
            return (JsonNode) o;
        }));
    }

    public static Arbitrary<JsonNode> text(String... plausible) {
        return Arbitraries.oneOf(Arbitraries.of(plausible), Arbitraries.strings().all().ofMaxLength(12))
                .map(NODES::textNode);
    }

    public static Arbitrary<JsonNode> arrayOf(Arbitrary<? extends JsonNode> item, int max) {
        return item.list().ofMaxSize(max).map(items -> {
            ArrayNode a = NODES.arrayNode();
            items.forEach(a::add);
            return a;
        });
    }

    public static String write(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
