package org.healthexport.relay.source.ehealth;

import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.NewJob;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EhealthAdopterTest {
    final EhealthAdopter adopter = new EhealthAdopter();

    @Test
    void acceptsTheDocumentedIdFormsAndKeepsHexOnesLowerCase() {
        assertThat(EhealthJobId.parse("5B63A1C2D3E4F5A6B7C8D9E0")).isEqualTo("5b63a1c2d3e4f5a6b7c8d9e0");
        assertThat(EhealthJobId.parse(" 3DA18C10-D2CA-469E-BDE5-7413201CEA2F\n")).isEqualTo("3da18c10-d2ca-469e-bde5-7413201cea2f");
        assertThat(EhealthJobId.parse("NBXk9EyErUZv1RhXgyvgg")).isEqualTo("NBXk9EyErUZv1RhXgyvgg");
        assertThat(EhealthJobId.parse("\uFEFFabc_123-x")).isEqualTo("abc_123-x");
    }

    @Test
    void acceptsTheJobLinkOfThe202Answer() {
        assertThat(EhealthJobId.parse("/Jobs/NBXk9EyErUZv1RhXgyvgg")).isEqualTo("NBXk9EyErUZv1RhXgyvgg");
        assertThat(EhealthJobId.parse("/jobs/5b63a1c2d3e4f5a6b7c8d9e0")).isEqualTo("5b63a1c2d3e4f5a6b7c8d9e0");
        assertThat(EhealthJobId.parse("https://api.ehealth.gov.ua/api/jobs/5b63a1c2d3e4f5a6b7c8d9e0/"))
                .isEqualTo("5b63a1c2d3e4f5a6b7c8d9e0");
        assertThat(EhealthJobId.parse("{host}/api/jobs/abc")).isEqualTo("abc");
    }

    @Test
    void refusesAnythingThatIsNotAnId() {
        for (String bad : new String[] {"", "  ", "../etc/passwd", "a b", "abc?x=1", "x".repeat(65), "id\u0000", "/api/patients/p"}) {
            assertThatThrownBy(() -> EhealthJobId.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(EhealthJobId.parse("ok-1")).isEqualTo("ok-1");
    }

    @Test
    void adoptsAJobIdIntoAStatusUrlAndValidatesTheRequest() throws Exception {
        EhealthFixture fx = new EhealthFixture();
        NewJob job = adopter.adopt(fx.source(), Map.of("source", "ehr", "jobId", "5B63A1C2D3E4F5A6B7C8D9E0",
                "patientId", "3da18c10-d2ca-469e-bde5-7413201cea2f"));
        assertThat(job.vendorJobId()).isEqualTo("5b63a1c2d3e4f5a6b7c8d9e0");
        assertThat(job.statusUrl()).isEqualTo("https://api.ehealth.example/api/jobs/5b63a1c2d3e4f5a6b7c8d9e0");
        assertThat(job.kind()).isEqualTo(EhealthKind.NAME);
        assertThat(job.attributes()).containsEntry("requiresAccessToken", "true")
                .containsEntry("patientId", "3da18c10-d2ca-469e-bde5-7413201cea2f").containsEntry("adoptedVia", "api");

        assertThatThrownBy(() -> adopter.adopt(fx.source(), Map.of("source", "ehr")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"jobId\"");
        assertThatThrownBy(() -> adopter.adopt(fx.source(), Map.of("source", "ehr", "jobId", 42)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> adopter.adopt(fx.source(), Map.of("source", "ehr", "jobId", "a/b")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an eHealth job id");
        assertThatThrownBy(() -> adopter.adopt(fx.source(), Map.of("source", "ehr", "jobId", "ok", "patientId", "x y")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("patientId");
    }

    @Test
    void theSameJobAdoptedTwiceIsOneJob() throws Exception {
        EhealthFixture fx = new EhealthFixture();
        JobStore.Adoption first = fx.jobs.submit(adopter.adopt(fx.source(), Map.of("jobId", "5b63a1c2d3e4f5a6b7c8d9e0")));
        JobStore.Adoption again = fx.jobs.submit(adopter.adopt(fx.source(), Map.of("jobId", "/jobs/5B63A1C2D3E4F5A6B7C8D9E0")));
        JobStore.Adoption inbox = fx.jobs.submit(EhealthAdopter.job(fx.source(), "5b63a1c2d3e4f5a6b7c8d9e0", "inbox", Map.of()));
        assertThat(first.created()).isTrue();
        assertThat(again.created()).isFalse();
        assertThat(inbox.created()).isFalse();
        assertThat(again.job().id()).isEqualTo(first.job().id()).isEqualTo(inbox.job().id());
    }

    @Test
    void aGatewayPathPrefixAndAnotherJobsPathAreKept() throws Exception {
        Properties p = new Properties();
        p.setProperty("relay.sources.ehr.base-url", "https://gw.example/ehealth");
        EhealthFixture gw = new EhealthFixture(p);
        assertThat(EhealthAdopter.statusUrl(gw.source(), "abc").toString()).isEqualTo("https://gw.example/ehealth/api/jobs/abc");
        p.setProperty("relay.sources.ehr.jobs-path", "/mis/api/jobs");
        assertThat(EhealthAdopter.statusUrl(new EhealthFixture(p).source(), "abc").toString())
                .isEqualTo("https://gw.example/ehealth/mis/api/jobs/abc");
    }
}
