package org.healthexport.relay.source.healthex;

import org.apache.camel.BeanInject;
import org.apache.camel.CamelContext;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.healthexport.relay.RelayApplication;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobState;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.sandbox.HealthexSandbox;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The source's cron schedule kicks off every configured patient, one job per patient per trigger. */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:healthex-schedule;DB_CLOSE_DELAY=-1",
        "relay.target.file.dir=target/test-outbox/healthex-schedule",
        "relay.sandbox.enabled=true",
        "relay.poll.initial-wait=100ms",
        "relay.poll.min-wait=50ms",
        "relay.poll.max-wait=300ms",
        "relay.kickoff.check-interval=300",
        "relay.sources.hxs.kind=healthex",
        "relay.sources.hxs.base-url={{relay.sandbox.healthex.url}}",
        "relay.sources.hxs.project-id=prj-sandbox",
        "relay.sources.hxs.auth.api-key=sandbox-api-key",
        "relay.sources.hxs.auth.secret=sandbox-api-secret",
        "relay.sources.hxs.patients-file=src/test/resources/healthex/patients-scheduled.json",
        "relay.sources.hxs.pull-after=200ms",
        "relay.sources.hxs.schedule=* * * * * ?"
})
class HealthexScheduleTest {
    @BeanInject
    CamelContext context;

    @Test
    void everyFireTimeTriggersThePatientOnceItsPreviousJobEnded() {
        HealthexSandbox sandbox = context.getRegistry().lookupByNameAndType("healthex-sandbox", HealthexSandbox.class);
        JobStore store = context.getRegistry().lookupByNameAndType("jobStore", JobStore.class);
        HealthexSandbox.Patient patient = sandbox.patient("pat-sched");

        await().atMost(Duration.ofSeconds(30)).until(() -> store.list(JobState.DELIVERED, 100).size() >= 2);

        List<ExportJob> jobs = store.list(null, 100).stream().sorted(Comparator.comparing(ExportJob::createdAt)).toList();
        List<ExportJob> delivered = jobs.stream().filter(j -> j.state() == JobState.DELIVERED).toList();
        assertThat(delivered).allMatch(j -> j.attribute("healthexPatientId").equals("pat-sched"));
        assertThat(delivered).extracting(j -> j.attribute("trigger")).doesNotHaveDuplicates()
                .allMatch(t -> t.startsWith("kickoff:"));
        assertThat(delivered).extracting(j -> j.attribute("retrievalId")).doesNotHaveDuplicates()
                .allMatch(patient.retrievalIds()::contains);
        // never two jobs of the patient at once: each trigger waited for the previous job to end
        for (int i = 1; i < jobs.size(); i++) {
            assertThat(jobs.get(i).createdAt()).isAfterOrEqualTo(jobs.get(i - 1).updatedAt());
        }
        for (ExportJob j : delivered) {
            Path folder = Path.of("target/test-outbox/healthex-schedule/healthex/prj-sandbox/pat-sched",
                    j.attribute("retrievalId"));
            assertThat(Files.exists(folder.resolve("receipt.json"))).isTrue();
        }
    }
}
