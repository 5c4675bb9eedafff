package org.healthexport.relay.source;

import org.apache.camel.CamelContext;
import org.healthexport.relay.auth.SourceAuth;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.deliver.DeliveryTarget;
import org.healthexport.relay.http.SourceFiles;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.notify.Notifier;

import java.net.http.HttpClient;
import java.time.Clock;
import java.util.Map;

/** What the relay hands a {@link SourceKind} at startup: the shared beans, and where to register its own. */
public record KindContext(
        CamelContext camel,
        RelayProperties properties,
        Sources sources,
        JobStore store,
        JobLifecycle jobs,
        SourceAuth auth,
        SourceFiles files,
        HttpClient http,
        Clock clock,
        DeliveryTarget target,
        Notifier notifier,
        Map<String, JobAdopter> adopters) {

    /** Binds a bean under the name the kind's routes use. */
    public void bind(String name, Object bean) {
        camel.getRegistry().bind(name, bean);
    }
}
