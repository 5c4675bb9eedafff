package org.healthexport.relay.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

/** {@code CreateSchema <jdbc url> <schema>}: a fresh PostgreSQL schema for a benchmark run. */
public final class CreateSchema {
    private CreateSchema() { }

    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0]); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + args[1]);
        }
    }
}
