package org.healthexport.relay.source.fhir;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The complete-status manifest of a FHIR Bulk Data export (v2, v3; v4's {@code outcome} is read as {@code error}).
 * Unknown fields are ignored, so a server adding fields never breaks a delivery.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record BulkManifest(
        String transactionTime,
        String request,
        Boolean requiresAccessToken,
        List<OutputFile> output,
        @JsonAlias("outcome") List<OutputFile> error,
        List<OutputFile> deleted,
        List<Link> link,
        JsonNode extension) {

    public BulkManifest {
        output = output == null ? List.of() : nonNull(output);
        error = error == null ? List.of() : nonNull(error);
        deleted = deleted == null ? List.of() : nonNull(deleted);
        link = link == null ? List.of() : nonNull(link);
    }

    private static <T> List<T> nonNull(List<T> items) {
        return items.stream().filter(Objects::nonNull).toList();
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record OutputFile(String type, String url, Long count, String continuesInFile) { }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Link(String relation, String url) { }

    /** True unless the server said false: when unsure, the token is needed (but only ever sent to its origin). */
    public boolean tokenRequired() {
        return requiresAccessToken == null || requiresAccessToken;
    }

    public String nextPage() {
        return link.stream().filter(l -> "next".equals(l.relation()) && l.url() != null).map(Link::url)
                .findFirst().orElse(null);
    }

    /** This page followed by the next one (a paged v3 manifest). */
    public BulkManifest append(BulkManifest next) {
        return new BulkManifest(transactionTime, request, requiresAccessToken, concat(output, next.output()),
                concat(error, next.error()), concat(deleted, next.deleted()), next.link(), extension);
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
