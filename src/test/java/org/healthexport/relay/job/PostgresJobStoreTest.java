package org.healthexport.relay.job;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PostgresJobStoreTest extends JobStoreContract {
    @Override
    String url() {
        return TestDatabases.newPostgresSchema();
    }

    @Test
    void runsOnPostgres() {
        assertThat(store.isPostgres()).isTrue();
    }
}
