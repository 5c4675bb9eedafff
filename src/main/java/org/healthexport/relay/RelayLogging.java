package org.healthexport.relay;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

import java.util.Map;
import java.util.function.Function;

/**
 * The relay's logging, set up in code (found by logback as a {@link Configurator} service): parsing a
 * {@code logback.xml} with Joran cost about 0.3 s of CPU on the main thread at every start, a tenth of it.
 * Plain text, or one JSON object per line with {@code relay.log.format=json} (env {@code RELAY_LOG_FORMAT}).
 * An operator's own file still wins: with {@code -Dlogback.configurationFile=...} (or a {@code logback-test.xml}
 * on the class path, as under tests) this steps aside and logback reads that file as usual;
 * {@code docs/logback.xml} is this set-up as a file to start from.
 */
public class RelayLogging extends ContextAwareBase implements Configurator {
    static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n";
    /** Loggers quieter than the root's INFO: their INFO lines say nothing an operator acts on. */
    static final Map<String, Level> LEVELS = Map.of(
            "org.apache.camel", Level.INFO,
            "org.apache.hc", Level.WARN,
            "org.flywaydb", Level.WARN,
            "com.zaxxer.hikari", Level.WARN);

    private final Function<String, String> env;

    public RelayLogging() {
        this(System::getenv);
    }

    RelayLogging(Function<String, String> env) {
        this.env = env;
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null
                || RelayLogging.class.getClassLoader().getResource("logback-test.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName(json() ? "json" : "text");
        console.setEncoder(json() ? jsonEncoder(context) : textEncoder(context));
        console.start();
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(console);
        LEVELS.forEach((name, level) -> context.getLogger(name).setLevel(level));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** {@code relay.log.format} (system property), else {@code RELAY_LOG_FORMAT}, is {@code json}. */
    boolean json() {
        String format = System.getProperty("relay.log.format");
        if (format == null) {
            format = env.apply("RELAY_LOG_FORMAT");
        }
        return "json".equalsIgnoreCase(format == null ? "" : format.trim());
    }

    static Encoder<ILoggingEvent> textEncoder(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        return encoder;
    }

    static Encoder<ILoggingEvent> jsonEncoder(LoggerContext context) {
        JsonEncoder encoder = new JsonEncoder();
        encoder.setContext(context);
        encoder.setWithFormattedMessage(true);
        encoder.setWithMessage(false);
        encoder.setWithArguments(false);
        encoder.start();
        return encoder;
    }
}
