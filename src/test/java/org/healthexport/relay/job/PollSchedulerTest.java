package org.healthexport.relay.job;

import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.sandbox.FhirBulkSandbox;
import org.healthexport.relay.sandbox.SandboxServer.RecordedRequest;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Keeps the scheduler honest: 1,000 jobs due at once are all polled, none twice. Not timed. */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:poll-scheduler;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/poll-scheduler",
        "relay.sandbox.enabled=true",
        "relay.sandbox.polls-before-ready=1000000",
        "relay.sandbox.retry-after=600",
        "relay.kickoff.startup-delay=3600000",
        "relay.sources.many.kind=fhir-bulk",
        "relay.sources.many.base-url={{relay.sandbox.fhir-base}}",
})
class PollSchedulerTest {
    static final int JOBS = 1000;
    @BeanInject
    CamelContext context;

    @Test
    void aThousandDueJobsAreEachPolledOnce() throws Exception {
        FhirBulkSandbox sandbox = context.getRegistry().lookupByNameAndType("fhirBulkSandbox", FhirBulkSandbox.class);
        JobLifecycle jobs = context.getRegistry().lookupByNameAndType("jobs", JobLifecycle.class);
        JobStore store = jobs.store();
        // stop the scheduler while the jobs are stored, so they are all due at once when it resumes
        context.getRouteController().suspendRoute("poll-due-jobs");
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < JOBS; i++) {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(sandbox.fhirBase() + "$export")).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
            store.adopt(new NewJob("many", "fhir-bulk", null, r.headers().firstValue("Content-Location").orElseThrow(),
                    null, Map.of()), JobState.SUBMITTED, store.now(), null);
        }
        sandbox.clearRequests();
        context.getRouteController().resumeRoute("poll-due-jobs");

        await().atMost(Duration.ofSeconds(120)).until(() -> store.countByState().get(JobState.RUNNING) == JOBS);
        Map<String, Long> polls = sandbox.requests().stream().filter(r -> r.path().contains("/jobs/"))
                .collect(Collectors.groupingBy(RecordedRequest::path, Collectors.counting()));
        assertThat(polls).hasSize(JOBS).allSatisfy((path, n) -> assertThat(n).as(path).isEqualTo(1L));
        assertThat(jobs.inFlight()).isZero();
        assertThat(store.list(JobState.RUNNING, JOBS)).allSatisfy(j -> assertThat(j.nextPollAt())
                .isAfter(store.now().plusSeconds(500)));
    }
}
