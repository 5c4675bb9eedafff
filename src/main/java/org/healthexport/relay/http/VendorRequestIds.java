package org.healthexport.relay.http;

import org.apache.camel.Exchange;
import org.healthexport.relay.job.ExportJob;

import java.net.http.HttpHeaders;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * The vendor's id of one of its answers, for support tickets and log lines: the first of an ordered list of
 * response headers that is present ({@code relay.http.request-id-headers}). Common ones first, W3C trace
 * context last (its trace id identifies the request at vendors that trace but name no request id).
 */
public final class VendorRequestIds {
    public static final List<String> DEFAULT_HEADERS = List.of("X-Request-Id", "X-Correlation-Id", "X-Amzn-RequestId",
            "x-amz-request-id", "opc-request-id", "Request-Id", "traceparent");
    private final List<String> headers;

    public VendorRequestIds(List<String> headers) {
        this.headers = List.copyOf(headers);
    }

    public static VendorRequestIds defaults() {
        return new VendorRequestIds(DEFAULT_HEADERS);
    }

    /** From a comma-separated list (the property's value); blank: the defaults. */
    public static VendorRequestIds parse(String list) {
        if (list == null || list.isBlank()) {
            return defaults();
        }
        return new VendorRequestIds(Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList());
    }

    public List<String> headers() {
        return headers;
    }

    /** The first listed header present in an answer; {@code header} looks one up by name (case-insensitively). */
    public String from(Function<String, String> header) {
        for (String name : headers) {
            String value = header.apply(name);
            if (value != null && !value.isBlank()) {
                return value.trim();
            }
        }
        return null;
    }

    public String from(HttpHeaders headers) {
        return from(name -> headers.firstValue(name).orElse(null));
    }

    /** The request id of the answer in this exchange (its message headers), or null. */
    public String of(Exchange exchange) {
        return from(name -> {
            Object value = exchange.getMessage().getHeader(name);
            return value == null ? null : value.toString();
        });
    }

    /**
     * Route step right after a call to the vendor: the answer's request id goes on the job of the exchange (and
     * is stored with the job's next change), so a fault, its log line and the API name the answer it came from.
     */
    public void capture(Exchange exchange) {
        ExportJob job = exchange.getProperty("job", ExportJob.class);
        String id = of(exchange);
        if (job != null && id != null && !id.equals(job.requestId())) {
            exchange.setProperty("job", job.withRequestId(id));
        }
    }
}
