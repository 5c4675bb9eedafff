package org.healthexport.relay.http;

import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class VendorRequestIdsTest {
    static final ExportJob JOB = new ExportJob("j1", "s", "fhir-bulk", null, "https://x/jobs/1", JobState.RUNNING,
            null, null, Instant.EPOCH, null, 0, null, "old-id", null, null, null, Map.of(), null, null);

    static String lookUp(Map<String, String> headers, String name) {
        Map<String, String> any = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        any.putAll(headers);
        return any.get(name);
    }

    @Test
    void theFirstListedHeaderPresentWins() {
        VendorRequestIds ids = VendorRequestIds.defaults();
        assertThat(ids.from(n -> lookUp(Map.of("traceparent", "00-abc-01", "x-correlation-id", " corr-1 "), n)))
                .isEqualTo("corr-1");
        assertThat(ids.from(n -> lookUp(Map.of("traceparent", "00-abc-01"), n))).isEqualTo("00-abc-01");
        assertThat(ids.from(n -> lookUp(Map.of("X-Request-Id", " "), n))).isNull();
    }

    @Test
    void theListIsAProperty() {
        assertThat(VendorRequestIds.parse(" opc-request-id , X-Request-Id ").headers())
                .containsExactly("opc-request-id", "X-Request-Id");
        assertThat(VendorRequestIds.parse("").headers()).isEqualTo(VendorRequestIds.DEFAULT_HEADERS);
    }

    @Test
    void aRouteStepPutsTheAnswersIdOnTheJob() throws Exception {
        DefaultCamelContext context = new DefaultCamelContext();
        context.start();
        Exchange exchange = new DefaultExchange(context);
        exchange.setProperty("job", JOB);
        VendorRequestIds.defaults().capture(exchange);
        assertThat(exchange.getProperty("job", ExportJob.class).requestId()).isEqualTo("old-id"); // no header: kept
        exchange.getMessage().setHeader("x-request-id", "sbx-7"); // Camel headers ignore case
        VendorRequestIds.defaults().capture(exchange);
        assertThat(exchange.getProperty("job", ExportJob.class).requestId()).isEqualTo("sbx-7");
        assertThat(exchange.getProperty("job", ExportJob.class).id()).isEqualTo("j1");
        context.stop();
    }
}
