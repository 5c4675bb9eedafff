package org.healthexport.relay.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * A PostgreSQL schema of its own for one benchmark run. {@code BenchSchema create <jdbc url> <schema>} makes it;
 * {@code BenchSchema drop <jdbc url> <schema>} prints how the run read and wrote {@code export_job} (per index: the
 * scans and the rows each scan fetched; the share of updates that were HOT, which write no index entry) and drops it.
 */
public final class BenchSchema {
    private BenchSchema() { }

    public static void main(String[] args) throws Exception {
        String schema = args[2];
        if (!args[0].equals("create") && !args[0].equals("drop")) {
            throw new IllegalArgumentException("Usage: BenchSchema create|drop <jdbc url> <schema>");
        }
        if (!schema.matches("[a-z_][a-z0-9_]*")) {
            throw new IllegalArgumentException("Not a plain schema name: " + schema);
        }
        try (Connection c = DriverManager.getConnection(args[1]); Statement s = c.createStatement()) {
            if (args[0].equals("create")) {
                s.execute("CREATE SCHEMA " + schema);
                return;
            }
            // the statistics collector reports what a backend did when its transaction ends, or within 0.5 s
            Thread.sleep(1000);
            try (ResultSet rs = s.executeQuery("SELECT indexrelname, idx_scan, idx_tup_fetch FROM pg_stat_user_indexes "
                    + "WHERE schemaname = '" + schema + "' AND relname = 'export_job' ORDER BY indexrelname")) {
                while (rs.next()) {
                    long scans = rs.getLong(2);
                    System.out.printf("%-19s %s: %,d scans, %,.0f rows fetched a scan%n", "store index",
                            rs.getString(1), scans, scans == 0 ? 0.0 : (double) rs.getLong(3) / scans);
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
                    + "WHERE schemaname = '" + schema + "' AND relname = 'export_job'")) {
                if (rs.next() && rs.getLong(1) > 0) {
                    System.out.printf("%-19s %,d, of them HOT %.0f%%%n", "store updates", rs.getLong(1),
                            100.0 * rs.getLong(2) / rs.getLong(1));
                }
            }
            s.execute("DROP SCHEMA " + schema + " CASCADE");
        }
    }
}
