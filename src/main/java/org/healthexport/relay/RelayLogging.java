package org.healthexport.relay;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The relay's logging, set up in code: one console appender, plain text or one JSON object per line
 * ({@code relay.log.format}), and quieter levels for chatty libraries. Logback's XML reader (Joran) costs about
 * 0.3 s of a 3.5 s start (docs/benchmarks.md), so it runs only when asked for: {@code
 * -Dlogback.configurationFile=...} (an operator's own file, e.g. a copy of {@code config/logback.xml}, which says
 * the same as this class) or a {@code logback-test.xml} on the class path (the tests).
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public class RelayLogging extends ContextAwareBase implements Configurator {
    static final String FORMAT = "relay.log.format";
    static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n";
    static final Map<String, Level> LEVELS = Map.of(
            "org.apache.camel", Level.INFO,
            "org.apache.hc", Level.WARN,
            "org.flywaydb", Level.WARN,
            "com.zaxxer.hikari", Level.WARN);

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null
                || RelayLogging.class.getClassLoader().getResource("logback-test.xml") != null) {
            return ExecutionStatus.NEUTRAL;
        }
        apply(context, format());
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** The console appender in the given format ({@code json}, anything else is text) and the levels. */
    static void apply(LoggerContext context, String format) {
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName(format.equals("json") ? "json" : "text");
        console.setEncoder(encoder(context, format));
        console.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(console);
        LEVELS.forEach((name, level) -> context.getLogger(name).setLevel(level));
    }

    /**
     * {@code relay.log.format}, looked up here because logging starts before Camel reads its properties, in this
     * order: a system property, env {@code RELAY_LOG_FORMAT}, {@code ./application.properties}, the
     * packaged one; else text.
     */
    static String format() {
        return format(System.getProperty(FORMAT), System.getenv("RELAY_LOG_FORMAT"), Path.of("application.properties"),
                RelayLogging.class.getClassLoader().getResource("application.properties"));
    }

    static String format(String property, String env, Path file, URL packaged) {
        String format = property != null ? property : env;
        if (format == null && Files.isRegularFile(file)) {
            format = fromFile(() -> Files.newInputStream(file));
        }
        if (format == null && packaged != null) {
            format = fromFile(packaged::openStream);
        }
        return format == null || format.isBlank() ? "text" : format.trim().toLowerCase(Locale.ROOT);
    }

    private interface Opener {
        InputStream open() throws IOException;
    }

    /** The format a properties file sets, or null when it sets none or cannot be read (then Camel says why). */
    private static String fromFile(Opener opener) {
        Properties properties = new Properties();
        try (InputStream in = opener.open()) {
            properties.load(in);
        } catch (IOException e) {
            return null;
        }
        return properties.getProperty(FORMAT);
    }

    private static Encoder<ILoggingEvent> encoder(LoggerContext context, String format) {
        if (format.equals("json")) {
            JsonEncoder json = new JsonEncoder();
            json.setContext(context);
            json.setWithFormattedMessage(true);
            json.setWithMessage(false);
            json.setWithArguments(false);
            json.start();
            return json;
        }
        PatternLayoutEncoder text = new PatternLayoutEncoder();
        text.setContext(context);
        text.setPattern(PATTERN);
        text.start();
        return text;
    }
}
