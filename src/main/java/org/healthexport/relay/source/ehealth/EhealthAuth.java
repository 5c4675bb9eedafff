package org.healthexport.relay.source.ehealth;

import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.healthexport.relay.auth.SourceAuth;
import org.healthexport.relay.job.ExportJob;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Route step putting eHealth's credentials on a request: {@code Authorization: Bearer <access token>} (the
 * source's {@link EhealthTokens}, registered with {@link SourceAuth}) and, when configured, the
 * {@code api-key} header. The same headers go with the entity downloads (see {@link #headers}).
 */
public class EhealthAuth {
    public static final String API_KEY_HEADER = "api-key";
    private final SourceAuth auth;
    private final Map<String, String> apiKeys = new ConcurrentHashMap<>();

    public EhealthAuth(SourceAuth auth) {
        this.auth = auth;
    }

    void apiKey(String sourceId, String apiKey) {
        if (apiKey != null) {
            apiKeys.put(sourceId, apiKey);
        }
    }

    /** Sets Authorization (and api-key) for the job's source on the outgoing message. */
    public void authorize(@ExchangeProperty("job") ExportJob job, Exchange exchange) {
        var msg = exchange.getMessage();
        msg.removeHeader("Authorization");
        msg.removeHeader(API_KEY_HEADER);
        auth.tokens(job.sourceId()).current().ifPresent(t -> msg.setHeader("Authorization", "Bearer " + t));
        String key = apiKeys.get(job.sourceId());
        if (key != null) {
            msg.setHeader(API_KEY_HEADER, key);
        }
    }

    /** The headers other than Authorization that go with the token (to the source's origin only). */
    public Map<String, String> headers(String sourceId) {
        String key = apiKeys.get(sourceId);
        return key == null ? Map.of() : Map.of(API_KEY_HEADER, key);
    }
}
