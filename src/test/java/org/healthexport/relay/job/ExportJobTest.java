package org.healthexport.relay.job;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ExportJobTest {
    final Instant now = Instant.parse("2026-12-01T12:00:00Z");

    @Test
    void equalJobsHashAlikeAndTwoVersionsOfOneJobStayTwoValues() {
        ExportJob job = LocalLeasesTest.job("job-1", now);
        ExportJob same = LocalLeasesTest.job("job-1", now);
        ExportJob later = job.withRequestId("req-2");

        assertThat(same).isEqualTo(job).hasSameHashCodeAs(job);
        assertThat(later).isNotEqualTo(job).hasSameHashCodeAs(job); // the hash is the id's, equality every component's
        Set<ExportJob> versions = new HashSet<>(Set.of(job, later));
        versions.add(same);
        assertThat(versions).containsExactlyInAnyOrder(job, later);
        assertThat(LocalLeasesTest.job("job-2", now).hashCode()).isNotEqualTo(job.hashCode());
    }
}
