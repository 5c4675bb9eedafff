package org.healthexport.relay.job;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The contract on a H2 database other relays may open too (AUTO_SERVER): the leases are kept in the rows. */
class SharedH2JobStoreTest extends JobStoreContract {
    @Override
    String url() {
        Path file = Path.of("target", "shared-h2", "store-" + UUID.randomUUID()).toAbsolutePath();
        return "jdbc:h2:file:" + file + ";AUTO_SERVER=TRUE";
    }

    @Test
    void leasesAreKeptInTheRows() {
        assertThat(store.keepsLeasesInRows()).isTrue();
    }
}
