package org.healthexport.relay;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ServiceLoader;

import static org.assertj.core.api.Assertions.assertThat;

class RelayLoggingTest {

    @Test
    void textIsTheDefaultWithTheLibrariesQuieter() {
        LoggerContext context = new LoggerContext();
        RelayLogging.apply(context, "text");

        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.INFO);
        ConsoleAppender<ILoggingEvent> console = (ConsoleAppender<ILoggingEvent>) root.getAppender("text");
        assertThat(console.isStarted()).isTrue();
        assertThat(((PatternLayoutEncoder) console.getEncoder()).getPattern()).isEqualTo(RelayLogging.PATTERN);
        assertThat(context.getLogger("org.flywaydb").getLevel()).isEqualTo(Level.WARN);
        assertThat(context.getLogger("org.flywaydb.core.Flyway").getEffectiveLevel()).isEqualTo(Level.WARN);
        assertThat(context.getLogger("org.healthexport.relay.job.FaultLine").getEffectiveLevel()).isEqualTo(Level.INFO);
    }

    @Test
    void jsonWritesOneObjectPerLine() {
        LoggerContext context = new LoggerContext();
        RelayLogging.apply(context, "json");

        ConsoleAppender<ILoggingEvent> console =
                (ConsoleAppender<ILoggingEvent>) context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("json");
        assertThat(console.getEncoder()).isInstanceOf(JsonEncoder.class);
    }

    /** config/logback.xml is the operator's starting point for a file of their own: it must say what the code does. */
    @Test
    void theShippedLogbackXmlSaysTheSame() throws Exception {
        LoggerContext fromFile = new LoggerContext();
        System.setProperty("relay.log.format", "text");
        try {
            JoranConfigurator joran = new JoranConfigurator();
            joran.setContext(fromFile);
            joran.doConfigure(Path.of("config/logback.xml").toFile());
        } finally {
            System.clearProperty("relay.log.format");
        }
        LoggerContext fromCode = new LoggerContext();
        RelayLogging.apply(fromCode, "text");

        for (String name : RelayLogging.LEVELS.keySet()) {
            assertThat(fromFile.getLogger(name).getLevel()).as(name).isEqualTo(fromCode.getLogger(name).getLevel());
        }
        Logger root = fromFile.getLogger(Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.INFO);
        assertThat(((PatternLayoutEncoder) ((ConsoleAppender<ILoggingEvent>) root.getAppender("text")).getEncoder())
                .getPattern()).isEqualTo(RelayLogging.PATTERN);
        assertThat(fromFile.getLoggerList().stream().filter(l -> l.getLevel() != null).map(Logger::getName))
                .containsExactlyInAnyOrderElementsOf(fromCode.getLoggerList().stream()
                        .filter(l -> l.getLevel() != null).map(Logger::getName).toList());
    }

    @Test
    void logbackFindsItAsAService() {
        assertThat(ServiceLoader.load(Configurator.class).stream().map(ServiceLoader.Provider::type))
                .contains(RelayLogging.class);
    }

    /** Logging starts before Camel reads application.properties, so the format is looked up there by the class. */
    @Test
    void theFormatComesFromTheSystemPropertyTheEnvironmentOrApplicationProperties(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("application.properties");
        Path packaged = dir.resolve("packaged.properties");
        Files.writeString(packaged, "relay.log.format = json\n");
        URL inJar = packaged.toUri().toURL();

        assertThat(RelayLogging.format(null, null, file, null)).isEqualTo("text");
        assertThat(RelayLogging.format(null, null, file, inJar)).isEqualTo("json");
        Files.writeString(file, "relay.log.format = text\n");
        assertThat(RelayLogging.format(null, null, file, inJar)).as("the working folder's file first").isEqualTo("text");
        assertThat(RelayLogging.format(null, " JSON ", file, inJar)).isEqualTo("json");
        assertThat(RelayLogging.format("text", "json", file, inJar)).isEqualTo("text");
    }
}
