package org.healthexport.relay.source.ehealth;

import org.apache.camel.impl.DefaultCamelContext;
import org.h2.jdbcx.JdbcDataSource;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.deliver.FolderTarget;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobEvents;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.StoreSchema;
import org.healthexport.relay.notify.Notifier;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Executors;

/** A real store (H2), lifecycle, folder target and notifier for the eHealth beans' unit tests. */
final class EhealthFixture {
    final Sources sources;
    final JobStore store;
    final JobLifecycle jobs;
    final FolderTarget target;
    final Path root;

    EhealthFixture(Properties extra) throws IOException {
        Properties p = new Properties();
        p.setProperty("relay.sources.ehr.kind", EhealthKind.NAME);
        p.setProperty("relay.sources.ehr.base-url", "https://api.ehealth.example");
        p.setProperty("relay.poll.min-wait", "1s");
        p.setProperty("relay.poll.max-wait", "30s");
        p.setProperty("relay.poll.initial-wait", "2s");
        p.putAll(extra);
        DefaultCamelContext context = new DefaultCamelContext();
        context.getPropertiesComponent().setInitialProperties(p);
        RelayProperties props = new RelayProperties(context);
        sources = new Sources(props.sourceIds().stream().map(id -> new SourceConfig(id, props)).toList());
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:mem:ehealth-unit-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        StoreSchema.migrate(ds);
        store = new JobStore(ds, Clock.systemUTC());
        root = Files.createTempDirectory("ehealth-unit");
        target = new FolderTarget(root);
        Notifier notifier = new Notifier(target, null, null, 1, Clock.systemUTC(),
                Executors.newSingleThreadScheduledExecutor());
        jobs = new JobLifecycle(store, sources, "unit", Duration.ofSeconds(60), 10, JobEvents.all(List.of(notifier)));
    }

    EhealthFixture() throws IOException {
        this(new Properties());
    }

    SourceConfig source() {
        return sources.get("ehr");
    }

    /** Adopts the job and claims it, as the poll route would before calling the status route. */
    ExportJob adoptAndClaim(String jobId) {
        ExportJob job = jobs.submit(EhealthAdopter.job(source(), jobId, "test", Map.of())).job();
        List<ExportJob> claimed = store.claimDue("unit", Duration.ofSeconds(60), 10);
        return claimed.stream().filter(j -> j.id().equals(job.id())).findFirst().orElseThrow();
    }

    EhealthStatus status() {
        return new EhealthStatus(sources, jobs, target);
    }

    List<Path> notifications() throws IOException {
        Path dir = root.resolve("_notifications");
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (var files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }
}
