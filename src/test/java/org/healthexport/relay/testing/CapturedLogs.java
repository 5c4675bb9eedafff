package org.healthexport.relay.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Every event logged anywhere in the JVM (the root logger) from {@link #start()} until {@link #close()}: what a test
 * reads to check a line the relay must log, or a secret it must not.
 */
public final class CapturedLogs implements AutoCloseable {
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private CapturedLogs() {
    }

    public static CapturedLogs start() {
        CapturedLogs logs = new CapturedLogs();
        logs.appender.start();
        root().addAppender(logs.appender);
        return logs;
    }

    /** The events so far, in the order they were logged. */
    public List<ILoggingEvent> events() {
        synchronized (appender) { // AppenderBase.doAppend adds under this lock, from any thread
            return List.copyOf(appender.list);
        }
    }

    @Override
    public void close() {
        root().detachAppender(appender);
        appender.stop();
    }

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }
}
