package org.healthexport.relay.job;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Readiness check {@code relay/store}: DOWN while the job store does not answer, so a replica that lost its
 * database takes no API traffic (its poll loop cannot claim work either). Not a liveness check: a database
 * outage must not make Kubernetes restart every pod. The answer is awaited at most {@code timeout} (a dead
 * database can otherwise hold a pool connection request for the whole connect timeout); at most one probe
 * of the store runs at a time, however often the endpoint is called.
 */
public class StoreHealthCheck extends AbstractHealthCheck {
    private final JobStore store;
    private final Duration timeout;
    private final ExecutorService prober = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "store-health");
        t.setDaemon(true);
        return t;
    });
    private CompletableFuture<Boolean> pending;

    public StoreHealthCheck(JobStore store, Duration timeout) {
        super("relay", "store");
        this.store = store;
        this.timeout = timeout;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        boolean up = reachable(); // first: it also waits (bounded) for the schema, which isPostgres() needs
        if (store.isSchemaSettled() && up) {
            builder.detail("store", store.isPostgres() ? "PostgreSQL" : "H2");
        }
        if (up) {
            builder.up();
        } else if (!store.isSchemaSettled()) {
            builder.down().message("The job store's schema is still being brought up to date");
        } else {
            builder.down().message("The job store does not answer within " + timeout.toMillis() + " ms");
        }
    }

    boolean reachable() {
        try {
            return probe().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private synchronized CompletableFuture<Boolean> probe() {
        if (pending == null || pending.isDone()) {
            pending = CompletableFuture.supplyAsync(store::isReachable, prober);
        }
        return pending;
    }
}
