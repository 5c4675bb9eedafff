package org.healthexport.relay;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A relay started with misspelt keys names each one at WARN, beside the keys it may have meant, and starts anyway;
 * the keys it reads, given correctly, draw no such line.
 */
@CamelMainTest(mainClass = RelayApplication.class, properties = {
        "relay.http.port=0",
        "relay.store.url=jdbc:h2:mem:unknown-keys;DB_CLOSE_DELAY=-1",
        "relay.target.check=false",
        "relay.target.s3.path_style=true",
        "relay.sources.acme.kind=fhir-bulk",
        "relay.sources.acme.base-url=http://127.0.0.1:9/fhir",
        "relay.sources.acme.export=Group/g1/$export",
        "relay.sources.acme.paralel-downloads=2",
        "relay.sources.acme.auth.mode=none",
        "relay.sources.hx.kind=healthex",
        "relay.sources.hx.base-url=http://127.0.0.1:9",
        "relay.sources.hx.project-id=p1",
        "relay.sources.hx.auth.api-key=k",
        "relay.sources.hx.auth.secret=s",
        "relay.sources.hx.export=Group/g1/$export"
})
class UnknownKeysTest {
    static final ListAppender<ILoggingEvent> LOGS = new ListAppender<>();

    static {
        LOGS.start();
        root().addAppender(LOGS);
    }

    @AfterAll
    static void stopLogs() {
        root().detachAppender(LOGS);
    }

    @Test
    void eachMisspeltKeyIsNamedOnceAtTheStart() {
        assertThat(LOGS.list).filteredOn(e -> e.getLevel() == Level.WARN)
                .extracting(ILoggingEvent::getFormattedMessage)
                .filteredOn(m -> m.contains(" is not a key of "))
                .satisfiesExactly(
                        m -> assertThat(m).startsWith("relay.target.s3.path_style is not a key of the relay: "
                                + "ignored unless a route of your own reads it (keys of relay.target.s3.*: ")
                                .contains("path-style"),
                        m -> assertThat(m).startsWith("relay.sources.acme.paralel-downloads is not a key of a fhir-bulk source: ").contains(
                                "keys of relay.sources.acme.*: ").contains("parallel-downloads"),
                        // a fhir-bulk key given to a HealthEx source: nothing reads it there
                        m -> assertThat(m).startsWith("relay.sources.hx.export is not a key of a healthex source: "));
    }

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }
}
