package org.healthexport.relay.job;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.UUID;

/**
 * Job stores for tests: a fresh in-memory H2, or a fresh schema in the PostgreSQL these machines run
 * (127.0.0.1:5432, database test; override with RELAY_TEST_POSTGRES_URL). Each call gives an empty, migrated store.
 */
public final class TestDatabases {
    private TestDatabases() {
    }

    public static String postgresBaseUrl() {
        String url = System.getenv("RELAY_TEST_POSTGRES_URL");
        return url != null ? url : "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
    }

    /** A new empty schema; returns a JDBC URL that uses it. */
    public static String newPostgresSchema() {
        String schema = "relay_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = DriverManager.getConnection(postgresBaseUrl())) {
            c.createStatement().execute("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL at " + postgresBaseUrl() + " is needed by this test", e);
        }
        return postgresBaseUrl() + (postgresBaseUrl().contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }

    public static String newH2Url() {
        return "jdbc:h2:mem:store-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    }

    public static HikariDataSource migrated(String url) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(8);
        HikariDataSource ds = new HikariDataSource(config);
        StoreSchema.migrate(ds);
        return ds;
    }
}
