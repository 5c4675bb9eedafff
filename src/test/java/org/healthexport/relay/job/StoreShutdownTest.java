package org.healthexport.relay.job;

import com.zaxxer.hikari.HikariDataSource;
import org.apache.camel.util.FileUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The embedded store stays open while the relay stops: a JVM that is told to stop (SIGTERM, Ctrl-C) runs H2's
 * shutdown hook beside Camel's, and without {@link JobStore#poolUrl} H2 closed the database while routes were still
 * finishing their steps. Each case runs {@link Probe} in a JVM of its own: it writes to the store from a shutdown
 * hook of its own, half a second into the JVM's stop, as a step still running then would.
 */
class StoreShutdownTest {
    private final Path folder = Path.of("target/store-shutdown").toAbsolutePath();

    @AfterEach
    void clean() {
        FileUtil.removeDir(folder.toFile());
    }

    @Test
    void theEmbeddedStoreTakesWritesUntilThePoolClosesAndKeepsThem() throws Exception {
        String url = "jdbc:h2:file:" + folder.resolve("store");
        assertThat(runProbe(JobStore.poolUrl(url))).contains("WRITTEN");
        try (HikariDataSource pool = new HikariDataSource()) {
            pool.setJdbcUrl(url);
            try (Connection c = pool.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM step_end")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).as("the write made while the JVM stopped was kept").isEqualTo(1);
            }
        }
    }

    /** What the option is for: H2 as it comes closes the database at the start of the JVM's stop. */
    @Test
    void withoutItH2ClosesTheStoreWhileTheRelayIsStillStopping() throws Exception {
        assertThat(runProbe("jdbc:h2:file:" + folder.resolve("store"))).contains("CLOSED").contains("already closed");
    }

    @Test
    void onlyEmbeddedH2UrlsAreChanged() {
        assertThat(JobStore.poolUrl("jdbc:h2:file:./data/relay-store"))
                .isEqualTo("jdbc:h2:file:./data/relay-store;DB_CLOSE_ON_EXIT=FALSE");
        assertThat(JobStore.poolUrl("jdbc:h2:./x;db_close_on_exit=true")).isEqualTo("jdbc:h2:./x;db_close_on_exit=true");
        assertThat(JobStore.poolUrl("jdbc:h2:tcp://db:9092/relay")).isEqualTo("jdbc:h2:tcp://db:9092/relay");
        assertThat(JobStore.poolUrl("jdbc:postgresql://db/relay")).isEqualTo("jdbc:postgresql://db/relay");
    }

    private String runProbe(String poolUrl) throws Exception {
        Files.createDirectories(folder);
        // the pool hands out its open connection unchecked, as it does to a relay that uses its connections every
        // few milliseconds (Hikari checks one only when it has been idle for half a second)
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "-Dcom.zaxxer.hikari.aliveBypassWindowMs=60000",
                Probe.class.getName(), poolUrl).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes());
    }

    /** {@code Probe <pool url>}: opens the store, then writes to it from a shutdown hook after the JVM began to stop. */
    public static final class Probe {
        public static void main(String[] args) throws Exception {
            HikariDataSource pool = new HikariDataSource();
            pool.setJdbcUrl(args[0]);
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE step_end (job VARCHAR(10))");
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    Thread.sleep(500);
                    try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                        s.execute("INSERT INTO step_end VALUES ('job-1')");
                        System.out.println("WRITTEN");
                    }
                } catch (SQLException | InterruptedException | RuntimeException e) {
                    System.out.println("CLOSED: " + e.getMessage());
                } finally {
                    pool.close();
                }
            }));
            System.exit(0);
        }
    }
}
