package org.healthexport.relay.job;

class H2JobStoreTest extends JobStoreContract {
    @Override
    String url() {
        return TestDatabases.newH2Url();
    }
}
