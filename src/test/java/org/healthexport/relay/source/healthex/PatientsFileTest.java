package org.healthexport.relay.source.healthex;

import org.healthexport.relay.config.ConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PatientsFileTest {
    @TempDir
    Path dir;

    @Test
    void jsonWithLoginsPasswordFilesAndAliases() throws Exception {
        Files.writeString(dir.resolve("p1.password"), "secret one\n");
        Path file = dir.resolve("patients.json");
        Files.writeString(file, """
                {"patients": [
                  {"healthexPatientId": "17d4513f-73e8", "externalId": "study-1", "email": "a@x.test", "passwordFile": "p1.password"},
                  {"patientId": "0b1c2d3e", "externalId": "study-2"},
                  {"referenceId": "99aa", "email": "c@x.test", "password": " spaced "}
                ]}""");
        List<HealthexPatient> patients = new PatientsFile("hx", file).patients();

        assertThat(patients).extracting(HealthexPatient::healthexPatientId).containsExactly("17d4513f-73e8", "0b1c2d3e", "99aa");
        assertThat(patients.get(0).hasCredentials()).isTrue();
        assertThat(patients.get(0).login()).isEqualTo(Map.of("email", "a@x.test", "password", "secret one"));
        assertThat(patients.get(1).hasCredentials()).isFalse();
        assertThat(patients.get(1).externalId()).isEqualTo("study-2");
        assertThat(patients.get(2).login().get("password")).isEqualTo(" spaced ");
        assertThat(patients.get(2).toString()).doesNotContain("spaced").doesNotContain("c@x.test");
    }

    @Test
    void aBareJsonArrayWorksToo() throws Exception {
        Path file = dir.resolve("p.json");
        Files.writeString(file, "[{\"healthexPatientId\":\"a1\"}]");
        assertThat(new PatientsFile("hx", file).find("a1")).isPresent();
    }

    @Test
    void csvWithHeaderCommentsAndQuotes() throws Exception {
        Path file = dir.resolve("patients.csv");
        Files.writeString(file, """
                # the study's patients
                healthexPatientId, external_id, Email, password, password-file

                pat-1,"study, one",p1@x.test,"pa""ss,word",
                pat-2,study-2,,,
                """);
        List<HealthexPatient> patients = new PatientsFile("hx", file).patients();
        assertThat(patients).hasSize(2);
        assertThat(patients.get(0).externalId()).isEqualTo("study, one");
        assertThat(patients.get(0).login().get("password")).isEqualTo("pa\"ss,word");
        assertThat(patients.get(1).hasCredentials()).isFalse();
    }

    @Test
    void theFileIsReadAgainWhenItChanges() throws Exception {
        Path file = dir.resolve("p.csv");
        Files.writeString(file, "healthexPatientId\npat-1\n");
        PatientsFile patients = new PatientsFile("hx", file);
        assertThat(patients.patients()).hasSize(1);
        Files.writeString(file, "healthexPatientId\npat-1\npat-2\n");
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
        assertThat(patients.patients()).hasSize(2);
    }

    @Test
    void mistakesAreReportedWithTheirLineAndNeverThePassword() throws Exception {
        assertRefused("healthexPatientId,email,password\npat-1,a@x.test,\n", "line 2", "no password");
        assertRefused("healthexPatientId,email,password\npat-1,,hunter2\n", "line 2", "no email");
        assertRefused("healthexPatientId\npat-1\npat-1\n", "line 3", "listed twice");
        assertRefused("healthexPatientId\n../etc\n", "line 2", "letters, digits");
        assertRefused("externalId\nx\n", "header row", null);
        assertRefused("{\"patients\": 3}", "\"patients\" array", null);
        assertRefused("{not json", "not valid JSON", null);
    }

    private void assertRefused(String text, String where, String why) throws Exception {
        Path file = Files.createTempFile(dir, "p", text.startsWith("{") ? ".json" : ".csv");
        Files.writeString(file, text);
        assertThatThrownBy(() -> new PatientsFile("hx", file).patients()).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(where).hasMessageContaining(why == null ? "" : why)
                .message().doesNotContain("hunter2");
    }
}
