package org.healthexport.relay.ops;

import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.Produce;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.RelayMetrics;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the Prometheus scrape and the alert rules (k8s/prometheus-alerts.yaml) read, after one real export through
 * the YAML routes: jobs by state and kind, polls by code, files and bytes by target, the READY to DELIVERED
 * latency, served on /observe/metrics of the relay's one HTTP port.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:observe-metrics;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/observe-metrics",
        "relay.sandbox.enabled=true",
        "relay.sandbox.retry-after=1",
        "relay.sources.bulk.kind=fhir-bulk",
        "relay.sources.bulk.base-url={{relay.sandbox.fhir-base}}",
        "relay.sources.bulk.allowed-hosts=127.0.0.1"
})
class ObserveMetricsTest {
    @BeanInject
    CamelContext context;
    @Produce
    ProducerTemplate producer;
    final HttpClient http = HttpClient.newHttpClient();

    String metrics() throws Exception {
        int port = context.hasServices(VertxPlatformHttpServer.class).stream()
                .mapToInt(VertxPlatformHttpServer::getPort).filter(p -> p > 0).findFirst().orElseThrow();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/observe/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** The value of the first sample whose name and labels match (labels in Prometheus' sorted order). */
    static double sample(String text, String nameAndLabels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(nameAndLabels) + " ([0-9.eE+-]+)$").matcher(text);
        assertThat(m.find()).as(nameAndLabels + " in\n" + text.lines()
                .filter(l -> l.startsWith("relay_")).reduce("", (a, b) -> a + b + "\n")).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void oneDeliveredExportShowsInEveryRelayMetric() throws Exception {
        JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
        ExportJob job = producer.requestBody("direct:kickoff-source", "bulk", ExportJob.class);
        await().atMost(Duration.ofSeconds(30)).until(() -> store.get(job.id()).state() == JobState.DELIVERED);
        ExportJob delivered = store.get(job.id());
        Instant readyAt = Instant.parse(delivered.attribute("readyAt"));
        assertThat(readyAt).isBetween(delivered.createdAt(), delivered.updatedAt());

        context.getRegistry().lookupByNameAndType("relayMetrics", RelayMetrics.class).refresh();
        String text = metrics();
        assertThat(sample(text, "relay_jobs{state=\"DELIVERED\"}")).isEqualTo(1);
        assertThat(sample(text, "relay_jobs{state=\"FAILED\"}")).isEqualTo(0);
        assertThat(sample(text, "relay_jobs_by_kind{kind=\"fhir-bulk\",state=\"DELIVERED\"}")).isEqualTo(1);
        assertThat(sample(text, "relay_polls_total{code=\"202\",kind=\"fhir-bulk\"}")).isGreaterThanOrEqualTo(1);
        assertThat(sample(text, "relay_polls_total{code=\"200\",kind=\"fhir-bulk\"}")).isEqualTo(1);
        long files = store.files(job.id()).size();
        long bytes = store.files(job.id()).stream().mapToLong(f -> f.bytes() == null ? 0 : f.bytes()).sum();
        assertThat(sample(text, "relay_files_delivered_total{target=\"file\"}")).isEqualTo(files);
        assertThat(sample(text, "relay_bytes_delivered_total{target=\"file\"}")).isEqualTo(bytes);
        assertThat(sample(text, "relay_delivery_latency_seconds_count{kind=\"fhir-bulk\"}")).isEqualTo(1);
        double seconds = sample(text, "relay_delivery_latency_seconds_sum{kind=\"fhir-bulk\"}");
        assertThat(seconds).isGreaterThanOrEqualTo(0)
                .isLessThanOrEqualTo(Duration.between(readyAt, delivered.updatedAt()).toMillis() / 1000.0 + 0.001);
        assertThat(text).contains("relay_delivery_latency_seconds_bucket{kind=\"fhir-bulk\",le=");
        assertThat(sample(text, "relay_job_transitions_total{kind=\"fhir-bulk\",to=\"DELIVERED\"}")).isEqualTo(1);
        // counters the alert rules take increase() of exist at 0 before their first event
        assertThat(sample(text, "relay_job_transitions_total{kind=\"fhir-bulk\",to=\"FAILED\"}")).isEqualTo(0);
        assertThat(sample(text, "relay_unknown_status_total{kind=\"fhir-bulk\"}")).isEqualTo(0);
        assertThat(sample(text, "relay_retries_total{kind=\"fhir-bulk\"}")).isEqualTo(0);
        // every relay metric the example alert rules use is one the relay serves (catches a renamed meter)
        Set<String> served = text.lines().filter(l -> l.startsWith("relay_"))
                .map(l -> l.replaceAll("[{ ].*", "")).collect(Collectors.toSet());
        Matcher used = Pattern.compile("relay_[a-z_]+").matcher(
                Files.readString(Path.of("k8s/prometheus-alerts.yaml")));
        while (used.find()) {
            assertThat(served).as("metric used by k8s/prometheus-alerts.yaml").contains(used.group());
        }
        // the JVM binders of application.properties: heap against the container limit
        assertThat(text).contains("jvm_memory_used_bytes{area=\"heap\"", "jvm_memory_max_bytes{area=\"heap\"",
                "process_cpu_usage");
    }
}
