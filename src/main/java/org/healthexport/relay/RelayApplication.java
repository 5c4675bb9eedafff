package org.healthexport.relay;

import org.apache.camel.main.Main;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Starts the relay on camel-main. Run from a project (or deployment) folder, it reads that folder's
 * {@code application.properties} over the packaged one and its {@code routes/*.camel.yaml} instead of the
 * packaged routes, so both are edited without a rebuild.
 */
public final class RelayApplication {
    private RelayApplication() {
    }

    public static void main(String[] args) throws Exception {
        // new Main(RelayApplication.class) scans this package and finds RelayConfiguration by itself: adding it
        // again here would run it twice (two sandboxes, two relays in one JVM).
        Main main = new Main(RelayApplication.class);
        main.setPropertyPlaceholderLocations(
                "classpath:application.properties;optional=true,file:application.properties;optional=true");
        if (Files.isDirectory(Path.of("routes"))) {
            main.addInitialProperty("relay.routes", "file:routes/*.camel.yaml");
        }
        main.run(args);
    }
}
