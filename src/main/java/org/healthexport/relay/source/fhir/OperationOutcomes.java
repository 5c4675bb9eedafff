package org.healthexport.relay.source.fhir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.Header;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads an error answer: an OperationOutcome whose issue code is transient (or one of its children in the
 * IssueType code system) means the poll failed but the job did not, so it is retried; so are 429 and plain
 * 5xx without a FHIR body (proxies, load balancers). Anything else ends the job with the server's text.
 */
public class OperationOutcomes {
    static final Set<String> TRANSIENT_CODES = Set.of("transient", "lock-error", "no-store", "exception",
            "timeout", "incomplete", "throttled");
    private static final int MAX_TEXT = 500;
    private final ObjectMapper json = new ObjectMapper();

    public StatusError read(@Header(Exchange.HTTP_RESPONSE_CODE) int code, @Body String body) {
        List<String> codes = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        boolean fhir = false;
        if (body != null && !body.isBlank()) {
            try {
                JsonNode root = json.readTree(body);
                if (root != null && "OperationOutcome".equals(root.path("resourceType").asText())) {
                    fhir = true;
                    for (JsonNode issue : root.path("issue")) {
                        codes.add(issue.path("code").asText(""));
                        String text = issue.path("details").path("text").asText(issue.path("diagnostics").asText(""));
                        if (!text.isBlank()) {
                            texts.add(text);
                        }
                    }
                }
            } catch (Exception notJson) {
                // a proxy's HTML error page: judged by its status code alone
            }
        }
        boolean isTransient = codes.stream().anyMatch(TRANSIENT_CODES::contains)
                || code == 429 || code == 408 || (!fhir && code >= 500) || (fhir && codes.isEmpty() && code >= 500);
        String text = "HTTP " + code + (texts.isEmpty() ? "" : ": " + String.join("; ", texts));
        if (!fhir && texts.isEmpty() && body != null && !body.isBlank() && code >= 400) {
            text += " (" + snippet(body) + ")";
        }
        return new StatusError(code, isTransient, text.length() > MAX_TEXT ? text.substring(0, MAX_TEXT) + "…" : text);
    }

    private static String snippet(String body) {
        String flat = body.replaceAll("\\s+", " ").trim();
        return flat.length() > 120 ? flat.substring(0, 120) + "…" : flat;
    }
}
