package org.healthexport.relay.http;

import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BoundedAnswerTest {
    final BoundedAnswer bounded = new BoundedAnswer(1024);

    Exchange exchangeWith(Object body) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setBody(body);
        return exchange;
    }

    @Test
    void anAnswerWithinTheLimitIsReadWhole() throws Exception {
        byte[] answer = new byte[1024];
        answer[1023] = 7;
        Exchange exchange = exchangeWith(new ByteArrayInputStream(answer));
        bounded.read(exchange);
        assertThat(exchange.getMessage().getBody(byte[].class)).isEqualTo(answer);
    }

    @Test
    void aLargerAnswerIsRefusedAsMalformedWithoutReadingItAll() {
        AtomicLong served = new AtomicLong();
        InputStream endless = new InputStream() { // a server that never stops sending
            @Override
            public int read() {
                served.incrementAndGet();
                return 'x';
            }
        };
        Exchange exchange = exchangeWith(endless);
        assertThatThrownBy(() -> bounded.read(exchange)).isInstanceOf(MalformedAnswerException.class)
                .hasMessageContaining("larger than 1024 bytes").hasMessageContaining("relay.http.max-status-bytes");
        assertThat(served.get()).isLessThan(64 * 1024);
    }

    @Test
    void bodiesThatAreNotStreamsAreLeftAsTheyAre() throws Exception {
        Exchange empty = exchangeWith(null);
        bounded.read(empty);
        assertThat(empty.getMessage().getBody()).isNull();
        Exchange small = exchangeWith(new byte[] {1, 2});
        bounded.read(small);
        assertThat(small.getMessage().getBody(byte[].class)).containsExactly(1, 2);
    }
}
