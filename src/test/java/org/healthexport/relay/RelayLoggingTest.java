package org.healthexport.relay;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The logging set up in code is the one {@code docs/logback.xml} describes: text by default, JSON lines with
 * the MDC on {@code RELAY_LOG_FORMAT=json}, the same quiet loggers. (Under tests, {@code logback-test.xml}
 * is on the class path, so the configurator is called here directly on a context of its own.)
 */
class RelayLoggingTest {
    @Test
    void textByDefault() {
        LoggerContext context = new LoggerContext();
        assertThat(configure(context, Map.of())).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY); // logback-test.xml

        RelayLogging logging = new RelayLogging(Map.<String, String>of()::get);
        assertThat(logging.json()).isFalse();
        String line = encode(RelayLogging.textEncoder(context), event(context));
        assertThat(line).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN  \\[main\\] o\\.h\\.relay\\.job\\.FaultLine - job\\.fault job=j-1\\n");
    }

    @Test
    void jsonLinesWithTheJobInTheirMdc() {
        assertThat(new RelayLogging(Map.of("RELAY_LOG_FORMAT", "json")::get).json()).isTrue();
        assertThat(new RelayLogging(Map.of("RELAY_LOG_FORMAT", "text")::get).json()).isFalse();

        LoggerContext context = new LoggerContext();
        String line = encode(RelayLogging.jsonEncoder(context), event(context));
        assertThat(line).startsWith("{").endsWith("}\n").doesNotContain("\n{")
                .contains("\"level\":\"WARN\"", "\"loggerName\":\"org.healthexport.relay.job.FaultLine\"",
                        "\"formattedMessage\":\"job.fault job=j-1\"", "\"mdc\": {\"jobId\":\"j-1\"}")
                .doesNotContain("\"arguments\"");
    }

    @Test
    void theSameLevelsAsTheDocumentedFile() throws Exception {
        String xml = Files.readString(Path.of("docs/logback.xml"));
        RelayLogging.LEVELS.forEach((name, level) ->
                assertThat(xml).contains("<logger name=\"" + name + "\" level=\"" + level + "\"/>"));
        assertThat(xml).contains("<pattern>" + RelayLogging.PATTERN + "</pattern>", "<root level=\"INFO\">");
        assertThat(RelayLogging.LEVELS).containsEntry("org.apache.camel", Level.INFO);
    }

    private static ExecutionStatus configure(LoggerContext context, Map<String, String> env) {
        RelayLogging logging = new RelayLogging(env::get);
        logging.setContext(context);
        return logging.configure(context);
    }

    private static ILoggingEvent event(LoggerContext context) {
        LoggingEvent event = new LoggingEvent(Logger.class.getName(),
                context.getLogger("org.healthexport.relay.job.FaultLine"), Level.WARN, "job.fault job={}", null,
                new Object[] {"j-1"});
        event.setThreadName("main");
        event.setMDCPropertyMap(Map.of("jobId", "j-1"));
        return event;
    }

    private static String encode(ch.qos.logback.core.encoder.Encoder<ILoggingEvent> encoder, ILoggingEvent event) {
        return new String(encoder.encode(event), StandardCharsets.UTF_8);
    }
}
