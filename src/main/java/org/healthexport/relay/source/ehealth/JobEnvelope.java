package org.healthexport.relay.source.ehealth;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Objects;

/**
 * The eHealth response envelope of {@code GET /api/jobs/{id}}: {@code meta} (code, url, type, request_id) and
 * {@code data} (the job: status, eta, links, status_code, error, response_data), or a top-level {@code error}
 * on a 4xx/5xx. Unknown fields are ignored, so eHealth adding fields never breaks a poll. Numbers sent as
 * strings ({@code "status_code": "422"}) and the reverse are both read.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record JobEnvelope(Meta meta, Data data, JsonNode error) {

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Meta(String code, String url, String type, @JsonProperty("request_id") String requestId) { }

    /**
     * The job. {@code error} is an object ({@code type}, {@code message}, {@code invalid[]}) or, in older answers,
     * a plain string; the 2019 service named it {@code errors}.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Data(String status, String eta, List<Link> links, @JsonProperty("status_code") String statusCode,
                       JsonNode error, JsonNode errors, @JsonProperty("response_data") JsonNode responseData) {
        public Data {
            links = links == null ? List.of() : links.stream().filter(Objects::nonNull).toList();
        }

        /** The error the job failed with, wherever this version of the service put it. */
        public JsonNode anyError() {
            return error != null && !error.isNull() ? error : errors;
        }

        public boolean hasResponseData() {
            return responseData != null && !responseData.isNull() && !responseData.isMissingNode();
        }
    }

    /** One created entity: its name ({@code encounter}, {@code condition}, ...) and where to GET it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Link(String entity, String href) { }

    public String requestId() {
        return meta == null ? null : meta.requestId();
    }
}
