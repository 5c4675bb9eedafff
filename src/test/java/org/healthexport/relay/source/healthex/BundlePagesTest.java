package org.healthexport.relay.source.healthex;

import org.healthexport.relay.source.fhir.MalformedStatusException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BundlePagesTest {
    @TempDir
    Path dir;

    static InputStream json(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void pagesBecomeNdjsonPerTypeWithExactNumbersAndTextAndOneCopyOfEachResource() throws Exception {
        try (BundlePages pages = new BundlePages(dir)) {
            BundlePages.Page first = pages.read(json("""
                    {"resourceType":"Bundle","type":"searchset","total":5,
                     "link":[{"relation":"self","url":"x?_offset=0"},{"relation":"next","url":"x?_offset=3"}],
                     "entry":[
                       {"fullUrl":"u","search":{"mode":"match"},"resource":{"resourceType":"Person","id":"p1","name":[{"given":["Zoë"]}]}},
                       {"resource":{"resourceType":"Observation","id":"o1","valueQuantity":{"value":7.20,"unit":"%"},"big":12345678901234567890}},
                       {"search":{"mode":"outcome"}}
                     ]}"""));
            // link after the entries, the same Observation again (offset paging over changing data)
            BundlePages.Page second = pages.read(json("""
                    {"entry":[
                       {"resource":{"id":"o1","resourceType":"Observation","valueQuantity":{"value":7.20,"unit":"%"}}},
                       {"resource":{"id":"o2","resourceType":"Observation","valueQuantity":{"value":1e2}}}
                     ],"resourceType":"Bundle","total":5,"link":[{"relation":"self","url":"x?_offset=3"}]}"""));

            assertThat(first).isEqualTo(new BundlePages.Page(3, 5L, "x?_offset=3"));
            assertThat(second).isEqualTo(new BundlePages.Page(2, 5L, null));
            Map<String, BundlePages.Spool> spools = pages.finish();
            assertThat(spools.keySet()).containsExactly("Person", "Observation");
            assertThat(Files.readString(spools.get("Person").file(), StandardCharsets.UTF_8))
                    .isEqualTo("{\"resourceType\":\"Person\",\"id\":\"p1\",\"name\":[{\"given\":[\"Zoë\"]}]}\n");
            assertThat(Files.readString(spools.get("Observation").file())).isEqualTo(
                    "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"valueQuantity\":{\"value\":7.20,\"unit\":\"%\"},"
                            + "\"big\":12345678901234567890}\n"
                            + "{\"id\":\"o2\",\"resourceType\":\"Observation\",\"valueQuantity\":{\"value\":100}}\n");
            assertThat(pages.counts()).containsExactly(Map.entry("Person", 1L), Map.entry("Observation", 2L));
            assertThat(pages.duplicates()).isEqualTo(1);
            assertThat(pages.withoutResource()).isEqualTo(1);
            assertThat(pages.entries()).isEqualTo(5);
            assertThat(pages.pages()).isEqualTo(2);
        }
        try (var left = Files.list(dir)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void aTypeNameCannotEscapeItsFolder() throws Exception {
        try (BundlePages pages = new BundlePages(dir)) {
            pages.read(json("{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"../../etc\"}}]}"));
            assertThat(pages.finish().keySet()).containsExactly("_.._etc");
        }
    }

    @Test
    void anOperationOutcomeOrBrokenJsonIsNotAPage() {
        try (BundlePages pages = new BundlePages(dir)) {
            assertThatThrownBy(() -> pages.read(json("{\"resourceType\":\"OperationOutcome\",\"issue\":[]}")))
                    .isInstanceOf(MalformedStatusException.class).hasMessageContaining("OperationOutcome");
            assertThatThrownBy(() -> pages.read(json("{\"resourceType\":\"Bundle\",\"entry\":[{")))
                    .isInstanceOf(MalformedStatusException.class);
            assertThatThrownBy(() -> pages.read(json("[]"))).isInstanceOf(MalformedStatusException.class);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void offsetPagingKeepsTheOtherParameters() {
        URI first = URI.create("https://api.healthex.io/FHIR/R4/Person/p1/$everything?_count=50&_offset=0");
        assertThat(EverythingPull.withOffset(first, 100).toString())
                .isEqualTo("https://api.healthex.io/FHIR/R4/Person/p1/$everything?_count=50&_offset=100");
    }
}
