package org.healthexport.relay.source.oracle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.SourceConfigs;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.http.Backoff;
import org.healthexport.relay.http.RetryAfter;
import org.healthexport.relay.job.NewJob;
import org.healthexport.relay.source.KickoffSchedule;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Oracle's kick-off rules, defaults and adoption, without a route. */
class OracleKickoffTest {
    static final String BASE = "https://fhir-ehr.cerner.com/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d";

    static SourceConfig source(Map<String, String> keys) {
        Map<String, String> all = new HashMap<>(Map.of("base-url", BASE));
        all.putAll(keys);
        SourceConfig raw = SourceConfigs.source("o", "oracle-health", all);
        return raw.withDefaults(new OracleHealthKind().defaults(raw));
    }

    static OracleKickoff kickoff(SourceConfig source) {
        return new OracleKickoff(new Sources(List.of(source)), null, null);
    }

    @Test
    void groupExportIsAGetWithTheParametersPassedThrough() {
        SourceConfig s = source(Map.of("export", "Group/g1/$export?_type=Patient,Observation&_typeFilter="
                + "Observation%3Fcategory%3Dlaboratory", "auth.client-secret", "x"));
        kickoff(s).validate(s);
        var r = kickoff(s).request(s);
        assertThat(r.method()).isEqualTo("GET");
        assertThat(r.url().toString()).isEqualTo(BASE + "/Group/g1/$export?_type=Patient,Observation&_typeFilter="
                + "Observation%3Fcategory%3Dlaboratory");
    }

    @Test
    void patientExportIsAPostOfParametersWithPatientReferences() throws Exception {
        SourceConfig s = source(Map.of("export", "Patient/$export?patient=Patient/1,Patient/2&_type=Patient"));
        kickoff(s).validate(s);
        var r = kickoff(s).request(s);
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.url().toString()).isEqualTo(BASE + "/Patient/$export");
        JsonNode body = new ObjectMapper().readTree(r.body());
        assertThat(body.path("resourceType").asText()).isEqualTo("Parameters");
        assertThat(body.path("parameter").findValuesAsText("reference")).containsExactly("Patient/1", "Patient/2");
        assertThat(body.path("parameter").findValuesAsText("valueString")).containsExactly("Patient");
    }

    @Test
    void exportsOracleWouldRefuseFailTheStartWithAReason() {
        assertThatThrownBy(() -> check("Patient/$export?_type=Patient")).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("at least one patient");
        assertThatThrownBy(() -> check("Group/g1/$export?patient=Patient/1")).hasMessageContaining("Group export does not take");
        assertThatThrownBy(() -> check("Group/g1/$export?_elements=id")).hasMessageContaining("does not support [_elements]");
        assertThatThrownBy(() -> check("$export")).hasMessageContaining("Group/<id>/$export or Patient/$export");
        assertThatThrownBy(() -> check("Group/g1/$export?_typeFilter=Observation%3Fstatus%3Dfinal"))
                .hasMessageContaining("_type with _typeFilter");
        SourceConfig get = source(Map.of("export", "Patient/$export?patient=Patient/1", "kickoff-method", "GET"));
        assertThatThrownBy(() -> kickoff(get).validate(get)).hasMessageContaining("POST only");
        SourceConfig post = source(Map.of("export", "Group/g1/$export", "kickoff-method", "POST"));
        assertThatThrownBy(() -> kickoff(post).validate(post)).hasMessageContaining("Group export is GET only");
        SourceConfig lenient = source(Map.of("export", "Group/g1/$export?_elements=id", "lenient", "true"));
        kickoff(lenient).validate(lenient);
        SourceConfig typo = source(Map.of("export", "Group/g1/$export", "lenient", "yes"));
        assertThatThrownBy(() -> kickoff(typo).validate(typo)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("relay.sources.o.lenient must be true or false");
    }

    private static void check(String export) {
        SourceConfig s = source(Map.of("export", export));
        kickoff(s).validate(s);
    }

    @Test
    void kindDefaultsOneExportAtATimeS3RedirectsDeleteAndScopesFromTheTypes() {
        SourceConfig s = source(Map.of("export", "Group/g1/$export?_type=Patient,Observation",
                "auth.client-id", "sys", "auth.private-key-file", "/secrets/k.json"));
        assertThat(s.flag("single-export", false)).isTrue();
        assertThat(s.flag("delete-after-delivery", false)).isTrue();
        assertThat(s.property("auth.mode", "none")).isEqualTo("smart-backend");
        assertThat(s.property("auth.scope", null)).isEqualTo("system/Patient.read system/Observation.read");
        assertThat(s.allowsHost(URI.create("https://cerner-opensvc-bulkfhir-processed.s3.us-west-2.amazonaws.com/a?X-Amz-Signature=x"))).isTrue();
        assertThat(s.allowsHost(URI.create("https://evil.example/a"))).isFalse();
        assertThat(KickoffSchedule.lockKey(s)).isEqualTo("client:sys@" + BASE + "/");

        SourceConfig basic = source(Map.of("export", "Group/g1/$export", "auth.client-secret-file", "/s",
                "auth.scope", "system/Patient.read", "allowed-hosts", "files.example", "single-export", "false"));
        assertThat(basic.property("auth.mode", "none")).isEqualTo("client-credentials");
        assertThat(basic.property("auth.scope", null)).isEqualTo("system/Patient.read");
        assertThat(basic.flag("single-export", true)).as("configured keys win").isFalse();
        assertThat(basic.allowsHost(URI.create("https://x.s3.amazonaws.com/a"))).isFalse();
    }

    @Test
    void theDefaultMaximumWaitKeepsOraclesRetryAfterOf600Seconds() {
        SourceConfig s = source(Map.of("export", "Group/g1/$export"));
        Backoff backoff = new Backoff(s.duration("poll.initial-wait", "poll.initial-wait", Duration.ofSeconds(2)),
                s.duration("poll.min-wait", "poll.min-wait", Duration.ofSeconds(1)),
                s.duration("poll.max-wait", "poll.max-wait", Duration.ofHours(1)));
        assertThat(backoff.next(RetryAfter.parse("600", Instant.now()), 0)).isEqualTo(Duration.ofSeconds(600));
    }

    @Test
    void aJobIdIsAdoptedUnderTheTenantsBulkExportJobs() {
        SourceConfig s = source(Map.of("export", "Group/g1/$export"));
        NewJob job = kickoff(s).adopt(s, Map.of("jobId", "a1b2-c3"));
        assertThat(job.statusUrl()).isEqualTo(BASE + "/bulk-export/jobs/a1b2-c3");
        assertThat(job.vendorJobId()).isEqualTo("a1b2-c3");
        assertThat(kickoff(s).vendorJobId(URI.create(job.statusUrl()))).isEqualTo("a1b2-c3");
        assertThat(kickoff(s).adopt(s, Map.of("statusUrl", BASE + "/bulk-export/jobs/zz")).vendorJobId()).isEqualTo("zz");
        assertThatThrownBy(() -> kickoff(s).adopt(s, Map.of("jobId", "../../x"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> kickoff(s).adopt(s, Map.of("statusUrl", "https://evil.example/jobs/1")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
