package org.healthexport.relay.job;

import org.flywaydb.core.Flyway;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The job store's schema: brought up to date by Flyway ({@code src/main/resources/db/migration}, then what only one
 * database needs in {@code db/h2} or {@code db/postgresql}), and whether
 * the database is PostgreSQL. At startup the migration runs on a thread of its own, beside Camel's route
 * building (about a sixth of the start on the main thread otherwise); {@link JobStore} waits for it before its
 * first statement, and the relay waits for it before any route starts, so nothing reads an unmigrated store
 * and a failed migration still stops the start.
 */
public final class StoreSchema {
    private final CompletableFuture<Boolean> postgres;

    private StoreSchema(CompletableFuture<Boolean> postgres) {
        this.postgres = postgres;
    }

    /** Starts migrating on a new thread ({@code store-migration}); a failure is kept for {@link #await()}. */
    public static StoreSchema migrateInBackground(DataSource dataSource) {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        Thread migration = new Thread(() -> {
            try {
                done.complete(migrate(dataSource));
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "store-migration");
        migration.setDaemon(true);
        migration.start();
        return new StoreSchema(done);
    }

    /** A schema someone else migrated (tests, tools): only asks the database what it is, now. */
    public static StoreSchema current(DataSource dataSource) {
        return new StoreSchema(CompletableFuture.completedFuture(isPostgres(dataSource)));
    }

    /** Migrates now, on this thread; true for PostgreSQL. */
    public static boolean migrate(DataSource dataSource) {
        boolean postgres = isPostgres(dataSource);
        // the migrations of every database, then those of this one only (version numbers are shared)
        Flyway.configure().dataSource(dataSource)
                .locations("classpath:db/migration", postgres ? "classpath:db/postgresql" : "classpath:db/h2")
                .load().migrate();
        return postgres;
    }

    /**
     * Waits until the schema is current; true for PostgreSQL. Throws what the migration threw (a Flyway or
     * connection failure) as a {@link StoreException}, every time it is asked.
     */
    public boolean await() {
        try {
            return postgres.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException c && c.getCause() != null ? c.getCause() : e.getCause();
            if (cause instanceof StoreException store) {
                throw store;
            }
            throw new StoreException("The job store's schema could not be brought up to date: " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("Interrupted while the job store's schema was being brought up to date", e);
        }
    }

    /** True once the migration has ended, well or not ({@link #await()} then returns at once). */
    public boolean isDone() {
        return postgres.isDone();
    }

    private static boolean isPostgres(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            return c.getMetaData().getDatabaseProductName().toLowerCase().contains("postgres");
        } catch (SQLException e) {
            throw new StoreException("Cannot reach the job store", e);
        }
    }
}
