package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.Header;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads a HealthEx error answer. The docs promise "a textual error in the response body" without its shape; the
 * API answers like a NestJS service ({@code {"statusCode":404,"message":"...","error":"Not Found"}}, message
 * sometimes a list), and FHIR endpoints answer an OperationOutcome. Both are read; anything else is cut short.
 * 408, 429 and 5xx may pass (retried); every other answer is final.
 */
public class HealthexErrors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_TEXT = 300;

    /** One refused call: its HTTP code, whether asking again may help, and the server's words. */
    public record HealthexError(int httpCode, boolean isTransient, String text) {

        /** The study is paused or not in an active status (the docs name the check, not its answer). */
        public boolean isStudyNotActive() {
            String t = text.toLowerCase(Locale.ROOT);
            return t.contains("pause") || t.contains("inactive") || t.contains("not active")
                    || t.contains("study status") || t.contains("project status");
        }
    }

    public HealthexError read(@Header(Exchange.HTTP_RESPONSE_CODE) int code, @Body String body) {
        boolean isTransient = code == 408 || code == 429 || code >= 500;
        String words = words(body);
        return new HealthexError(code, isTransient, "HTTP " + code + (words.isEmpty() ? "" : ": " + words));
    }

    /** {@code " (<server's words>)"}-ready text, or empty: for messages built around it. */
    static String describe(String body) {
        String words = words(body);
        return words.isEmpty() ? "" : ": " + words;
    }

    static String words(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        try {
            JsonNode root = JSON.readTree(body);
            if (root != null && root.isObject()) {
                List<String> parts = new ArrayList<>();
                if ("OperationOutcome".equals(root.path("resourceType").asText())) {
                    for (JsonNode issue : root.path("issue")) {
                        String text = issue.path("details").path("text").asText(issue.path("diagnostics").asText(""));
                        if (!text.isBlank()) {
                            parts.add(text);
                        }
                    }
                }
                JsonNode message = root.path("message");
                if (message.isArray()) {
                    message.forEach(m -> parts.add(m.asText()));
                } else if (message.isTextual() && !message.asText().isBlank()) {
                    parts.add(message.asText());
                }
                String error = root.path("error").isTextual() ? root.path("error").asText() : "";
                if (parts.isEmpty() && !error.isBlank()) {
                    parts.add(error);
                }
                if (root.path("patientActionNeededReason").isTextual()) {
                    parts.add(root.path("patientActionNeededReason").asText());
                }
                if (!parts.isEmpty()) {
                    return cut(String.join("; ", parts));
                }
            }
        } catch (Exception notJson) {
            // an HTML page from a proxy: shown cut short below
        }
        return cut(body.replaceAll("\\s+", " ").trim());
    }

    private static String cut(String s) {
        return s.length() > MAX_TEXT ? s.substring(0, MAX_TEXT) + "…" : s;
    }
}
