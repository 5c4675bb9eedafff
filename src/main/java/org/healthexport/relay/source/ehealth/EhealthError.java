package org.healthexport.relay.source.ehealth;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * A failed job's (or a refused request's) error, read leniently: {@code {type, message, invalid[]}} as the
 * validation errors have it, a plain string as the Confluence example has it, or nothing.
 * {@code invalid[]} entries are {@code {entry, entry_type, rules[{rule, description, params}]}}.
 */
public record EhealthError(String type, String message, List<Invalid> invalid) {
    private static final int MAX_INVALID_SHOWN = 20;
    private static final int MAX_TEXT = 300;

    public record Invalid(String entry, String entryType, List<Rule> rules) {
        /** {@code $.encounter.period (json_data_property): required "description"}. */
        public String describe() {
            StringBuilder sb = new StringBuilder(entry == null ? "?" : cut(entry));
            if (entryType != null && !entryType.isBlank()) {
                sb.append(" (").append(cut(entryType)).append(')');
            }
            if (!rules.isEmpty()) {
                sb.append(": ");
                List<String> texts = new ArrayList<>();
                for (Rule r : rules) {
                    String t = r.rule() == null ? "" : r.rule();
                    if (r.description() != null && !r.description().isBlank()) {
                        t += (t.isEmpty() ? "" : " ") + "\"" + cut(r.description()) + "\"";
                    }
                    texts.add(t);
                }
                sb.append(String.join(", ", texts));
            }
            return sb.toString();
        }
    }

    public record Rule(String rule, String description) { }

    public static final EhealthError NONE = new EhealthError(null, null, List.of());

    public static EhealthError from(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return NONE;
        }
        if (node.isTextual()) {
            return new EhealthError(null, cut(node.asText()), List.of());
        }
        if (!node.isObject()) {
            return new EhealthError(null, cut(node.toString()), List.of());
        }
        String type = text(node.get("type"));
        String message = text(node.get("message"));
        if (message == null) {
            message = text(node.get("error"));
        }
        List<Invalid> invalid = new ArrayList<>();
        for (JsonNode i : node.path("invalid")) {
            List<Rule> rules = new ArrayList<>();
            for (JsonNode r : i.path("rules")) {
                rules.add(new Rule(text(r.get("rule")), text(r.get("description"))));
            }
            invalid.add(new Invalid(text(i.get("entry")), text(i.get("entry_type")), rules));
        }
        return new EhealthError(type, message, List.copyOf(invalid));
    }

    public boolean isEmpty() {
        return type == null && message == null && invalid.isEmpty();
    }

    /** {@code validation_failed: Validation failed...; invalid: $.a (json_data_property): required; ...}. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        if (type != null) {
            sb.append(type);
        }
        if (message != null) {
            sb.append(sb.length() == 0 ? "" : ": ").append(message);
        }
        if (!invalid.isEmpty()) {
            sb.append(sb.length() == 0 ? "" : "; ").append("invalid: ");
            List<String> shown = invalid.stream().limit(MAX_INVALID_SHOWN).map(Invalid::describe).toList();
            sb.append(String.join("; ", shown));
            if (invalid.size() > MAX_INVALID_SHOWN) {
                sb.append("; and ").append(invalid.size() - MAX_INVALID_SHOWN).append(" more");
            }
        }
        return sb.toString();
    }

    private static String text(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        return cut(n.isValueNode() ? n.asText() : n.toString());
    }

    private static String cut(String s) {
        String flat = s.replaceAll("\\s+", " ").trim();
        return flat.length() > MAX_TEXT ? flat.substring(0, MAX_TEXT) + "…" : flat;
    }
}
