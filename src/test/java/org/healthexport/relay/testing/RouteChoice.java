package org.healthexport.relay.testing;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Predicate;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One {@code choice} of a route file under {@code routes/}, evaluated as Camel evaluates it: its {@code when}
 * predicates in order with the real Simple language, against a body, headers and exchange properties. Property
 * tests use it to check which branch a parsed vendor answer takes, without starting the relay.
 */
public final class RouteChoice {
    private static final CamelContext CAMEL = new DefaultCamelContext();

    private final List<Predicate> whens = new ArrayList<>();
    private final List<Set<String>> branchMethods = new ArrayList<>();
    private final Set<String> otherwiseMethods;

    private RouteChoice(List<Map<String, Object>> when, Map<String, Object> otherwise) {
        for (Map<String, Object> w : when) {
            Object simple = w.get("simple");
            if (!(simple instanceof String expression)) {
                throw new IllegalArgumentException("Only simple predicates are supported: " + w.keySet());
            }
            whens.add(CAMEL.resolveLanguage("simple").createPredicate(expression));
            branchMethods.add(methods(w.get("steps")));
        }
        otherwiseMethods = otherwise == null ? Set.of() : methods(otherwise.get("steps"));
    }

    /** The choice in {@code routes/<file>} whose first {@code when} is exactly {@code firstWhen}. */
    public static RouteChoice in(String file, String firstWhen) {
        return in(file, firstWhen, null);
    }

    /** The same, among those choices the one with a branch calling {@code method} (when several start alike). */
    public static RouteChoice in(String file, String firstWhen, String method) {
        Object routes;
        try (InputStream in = Files.newInputStream(Path.of("routes", file))) {
            routes = new Load(LoadSettings.builder().build()).loadFromInputStream(in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        RouteChoice found = find(routes, firstWhen, method);
        if (found == null) {
            throw new IllegalArgumentException("No choice starting with " + firstWhen + " in " + file);
        }
        return found;
    }

    @SuppressWarnings("unchecked")
    private static RouteChoice find(Object node, String firstWhen, String method) {
        if (node instanceof Map<?, ?> map) {
            Object choice = map.get("choice");
            if (choice instanceof Map<?, ?> c && c.get("when") instanceof List<?> when && !when.isEmpty()
                    && when.get(0) instanceof Map<?, ?> first && firstWhen.equals(first.get("simple"))) {
                RouteChoice r = new RouteChoice((List<Map<String, Object>>) when, (Map<String, Object>) c.get("otherwise"));
                if (method == null || r.branchMethods.stream().anyMatch(m -> m.contains(method))) {
                    return r;
                }
            }
            for (Object v : map.values()) {
                RouteChoice r = find(v, firstWhen, method);
                if (r != null) {
                    return r;
                }
            }
        } else if (node instanceof Iterable<?> list) {
            for (Object v : list) {
                RouteChoice r = find(v, firstWhen, method);
                if (r != null) {
                    return r;
                }
            }
        }
        return null;
    }

    /** Every bean method named in a branch, nested choices included, without arguments. */
    private static Set<String> methods(Object node) {
        Set<String> out = new LinkedHashSet<>();
        collect(node, out);
        return out;
    }

    private static void collect(Object node, Set<String> out) {
        if (node instanceof Map<?, ?> map) {
            if (map.get("bean") instanceof Map<?, ?> bean && bean.get("method") instanceof String m) {
                out.add(m.contains("(") ? m.substring(0, m.indexOf('(')) : m);
            }
            map.values().forEach(v -> collect(v, out));
        } else if (node instanceof Iterable<?> list) {
            list.forEach(v -> collect(v, out));
        }
    }

    /** The bean methods of the branch this exchange takes (the otherwise branch when no predicate matches). */
    public Set<String> branch(Object body, Map<String, Object> headers, Map<String, Object> properties) {
        Exchange exchange = new DefaultExchange(CAMEL);
        exchange.getMessage().setBody(body);
        headers.forEach(exchange.getMessage()::setHeader);
        properties.forEach(exchange::setProperty);
        for (int i = 0; i < whens.size(); i++) {
            if (whens.get(i).matches(exchange)) {
                return branchMethods.get(i);
            }
        }
        return otherwiseMethods;
    }
}
