package org.healthexport.relay.source.ehealth;

import org.healthexport.relay.job.ExportJob;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EhealthInboxTest {
    final EhealthFixture fx;
    final EhealthInbox inbox;

    EhealthInboxTest() throws Exception {
        fx = new EhealthFixture();
        inbox = new EhealthInbox(fx.sources, fx.jobs);
    }

    @Test
    void readsOneIdPerLineSkippingCommentsBlankLinesAndRepeats() {
        assertThat(inbox.ids("\uFEFF# from the MIS\r\n5B63A1C2D3E4F5A6B7C8D9E0\r\n\r\n  /jobs/NBXk9EyErUZv1RhXgyvgg  \n"
                + "5b63a1c2d3e4f5a6b7c8d9e0\n"))
                .containsExactly("5b63a1c2d3e4f5a6b7c8d9e0", "NBXk9EyErUZv1RhXgyvgg");
    }

    @Test
    void readsTheSaved202AnswerOrAJobIdObject() {
        assertThat(inbox.ids("{\"data\":{\"status\":\"pending\",\"eta\":\"2018-08-02T10:45:16.000Z\",\"links\":"
                + "[{\"entity\":\"job\",\"href\":\"/Jobs/NBXk9EyErUZv1RhXgyvgg\"}]},\"meta\":{\"code\":202}}"))
                .containsExactly("NBXk9EyErUZv1RhXgyvgg");
        assertThat(inbox.ids("{\"jobId\": \"abc\"}")).containsExactly("abc");
        assertThatThrownBy(() -> inbox.ids("{\"data\":{}}")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> inbox.ids("{not json")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void oneBadLineRefusesTheWholeFileAndNamesTheLine() {
        assertThatThrownBy(() -> inbox.ids("good-1\nnot an id\ngood-2\n../x\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("line 2:").hasMessageContaining("line 4:");
        assertThatThrownBy(() -> inbox.ids("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> inbox.ids("# only a comment\n\n")).hasMessageContaining("no job id");
        assertThatThrownBy(() -> inbox.ids("x".repeat(EhealthInbox.MAX_FILE_CHARS + 1))).hasMessageContaining("larger");
    }

    @Test
    void adoptsEveryIdOnceWhateverTheFile() {
        assertThat(inbox.adopt("ehr", "aaa\nbbb\n", "one.txt")).isEqualTo("2 job id(s), 2 new, 0 already known");
        assertThat(inbox.adopt("ehr", "bbb\nccc\n", "two.txt")).isEqualTo("2 job id(s), 1 new, 1 already known");
        List<ExportJob> all = fx.store.list(null, 100);
        assertThat(all).extracting(ExportJob::vendorJobId).containsExactlyInAnyOrder("aaa", "bbb", "ccc");
        assertThat(all).allSatisfy(j -> {
            assertThat(j.attribute("adoptedVia")).isEqualTo("inbox");
            assertThat(j.statusUrl()).isEqualTo("https://api.ehealth.example/api/jobs/" + j.vendorJobId());
        });
        assertThatThrownBy(() -> inbox.adopt("ehr", "ddd\nbad id\n", "three.txt")).isInstanceOf(IllegalArgumentException.class);
        assertThat(fx.store.list(null, 100)).hasSize(3);
    }
}
