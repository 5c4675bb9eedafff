package org.healthexport.relay.job;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/** The job store could not do what was asked; the message names the job or source, never a credential. */
public class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * True when the database connection was lost or could not be had (SQLSTATE class 08, PostgreSQL's 57P01-03
     * "shutting down / starting up", the pool's timeout): what a database restart or outage looks like, as
     * opposed to a statement the database refused.
     */
    public boolean isConnectionLost() {
        for (Throwable t = getCause(); t != null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P"))) {
                return true;
            }
        }
        return false;
    }
}
