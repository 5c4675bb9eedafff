package org.healthexport.relay;

import org.apache.camel.main.Main;
import org.healthexport.relay.config.ConfigurationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Starts the relay on camel-main. Run from a project (or deployment) folder, it reads that folder's
 * {@code application.properties} over the packaged one and its {@code routes/*.camel.yaml} instead of the
 * packaged routes, so both are edited without a rebuild.
 */
public final class RelayApplication {
    private static final Logger LOG = LoggerFactory.getLogger(RelayApplication.class);

    private RelayApplication() {
    }

    public static void main(String[] args) throws Exception {
        warmUpDefaultTls();
        // RelayConfiguration named, not found by a package scan: the scan reads the whole shaded jar (twice).
        // Route tests (@CamelMainTest(mainClass = RelayApplication.class)) still find it by their own scan.
        Main main = new Main();
        main.configure().addConfiguration(RelayConfiguration.class);
        // The first location that has a key wins: the working folder's file, then the packaged defaults.
        main.setPropertyPlaceholderLocations(
                "file:application.properties;optional=true,classpath:application.properties;optional=true");
        if (Files.isDirectory(Path.of("routes"))) {
            main.addInitialProperty("relay.routes", "file:routes/*.camel.yaml");
        } else {
            PackagedRoutes.ofRunningJar().ifPresent(routes -> main.addInitialProperty("relay.routes", routes));
        }
        main.addMainListener(new UnusedKindRoutes());
        try {
            main.run(args);
        } catch (Exception e) {
            // Threads started on the way (the demo's or a test's sandbox serving HTTP) would keep the JVM running
            // with no relay in it: the process ends, so that whoever runs it (a shell, Kubernetes) sees the failure.
            ConfigurationException configuration = configurationError(e);
            if (configuration != null) {
                LOG.error("The relay did not start: {}", configuration.getMessage());
            } else {
                LOG.error("The relay did not start", e);
            }
            System.exit(1);
        }
    }

    /** The configuration error behind a failed start (Camel may wrap it), or null. */
    static ConfigurationException configurationError(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ConfigurationException configuration) {
                return configuration;
            }
        }
        return null;
    }

    /**
     * The JDK's default TLS context (its CA certificates read and parsed: about 5% of the main thread's start)
     * is made once per JVM and used by camel-http and, without a trust store, by the relay's own clients:
     * made now on another thread, it is ready by the time the relay is wired instead of made on the way.
     */
    private static void warmUpDefaultTls() {
        Thread warmUp = new Thread(() -> {
            try {
                SSLContext.getDefault();
            } catch (Exception e) {
                // the relay's own first use reports it
            }
        }, "tls-warm-up");
        warmUp.setDaemon(true);
        warmUp.start();
    }
}
