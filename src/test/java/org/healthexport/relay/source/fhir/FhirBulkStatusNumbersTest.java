package org.healthexport.relay.source.fhir;

import org.assertj.core.groups.Tuple;
import org.healthexport.relay.job.JobFile;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A fresh manifest lands on the files the job already knows: same numbers and keys, new links. */
class FhirBulkStatusNumbersTest {

    static JobFile known(int seq, String type, String url, String key) {
        return new JobFile(seq, "j", seq, "output", type, url, key, null, null, null, null);
    }

    @Test
    void refreshedPresignedLinksKeepTheirNumbersAndKeysEvenReordered() {
        List<JobFile> known = List.of(
                known(1, "Patient", "https://s3.example/b/p1?sig=old", "f/Patient-1.ndjson"),
                known(2, "Observation", "https://s3.example/b/o1?sig=old", "f/Observation-1.ndjson"),
                known(3, "Observation", "https://s3.example/b/o2?sig=old", "f/Observation-2.ndjson"));
        List<JobFile> fresh = List.of(
                JobFile.planned(1, "output", "Observation", "https://s3.example/b/o2?sig=new", "f/Observation-1.ndjson"),
                JobFile.planned(2, "output", "Observation", "https://s3.example/b/o1?sig=new", "f/Observation-2.ndjson"),
                JobFile.planned(3, "output", "Patient", "https://s3.example/b/p1?sig=new", "f/Patient-1.ndjson"));
        List<JobFile> merged = FhirBulkStatus.keepNumbers(known, fresh);
        assertThat(merged).extracting(JobFile::seq).containsExactly(1, 2, 3);
        assertThat(merged).extracting(JobFile::url).containsExactly("https://s3.example/b/p1?sig=new",
                "https://s3.example/b/o1?sig=new", "https://s3.example/b/o2?sig=new");
        assertThat(merged).extracting(JobFile::targetKey).containsExactly("f/Patient-1.ndjson",
                "f/Observation-1.ndjson", "f/Observation-2.ndjson");
    }

    @Test
    void aChangedManifestNeverPutsANewLinkOnAnotherFilesKey() {
        List<JobFile> known = List.of(
                known(1, "Patient", "https://a.example/x/1", "f/Patient-1.ndjson"),
                known(2, "Patient", "https://a.example/x/2", "f/Patient-2.ndjson"));
        List<JobFile> fresh = List.of(
                JobFile.planned(1, "output", "Patient", "https://a.example/y/1", "f/Patient-1.ndjson"),
                JobFile.planned(2, "output", "Patient", "https://a.example/x/1", "f/Patient-2.ndjson"),
                JobFile.planned(3, "output", "Patient", "https://a.example/y/3", "f/Patient-3.ndjson"));
        List<JobFile> merged = FhirBulkStatus.keepNumbers(known, fresh);
        // x/1 keeps seq 1 by its URL, wherever it is listed; y/1 would take Patient-1, which x/1 holds: a new file,
        // with a key of its own; y/3 is new; known x/2 is not in the manifest and keeps its record
        assertThat(merged).extracting(JobFile::seq, JobFile::url, JobFile::targetKey).containsExactly(
                Tuple.tuple(1, "https://a.example/x/1", "f/Patient-1.ndjson"),
                Tuple.tuple(3, "https://a.example/y/1", "f/Patient-1-new2.ndjson"),
                Tuple.tuple(4, "https://a.example/y/3", "f/Patient-3.ndjson"));
    }

    @Test
    void aFirstManifestIsPlannedAsIs() {
        List<JobFile> fresh = List.of(JobFile.planned(1, "output", "Patient", "u", "k"));
        assertThat(FhirBulkStatus.keepNumbers(List.of(), fresh)).isEqualTo(fresh);
    }
}
