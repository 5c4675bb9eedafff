package org.healthexport.relay.auth;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/** How a client proves itself at the token endpoint (RFC 6749 2.3, RFC 7523). */
public sealed interface ClientAuthentication {

    /** Adds form fields and returns the Authorization header value, if any. */
    String apply(URI tokenUrl, Map<String, String> form);

    /** client_secret_basic: the secret in a Basic header. */
    record BasicSecret(String clientId, String secret) implements ClientAuthentication {
        @Override
        public String apply(URI tokenUrl, Map<String, String> form) {
            String pair = URLEncoder.encode(clientId, StandardCharsets.UTF_8) + ":"
                    + URLEncoder.encode(secret, StandardCharsets.UTF_8);
            return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String toString() {
            return "BasicSecret[" + clientId + "]";
        }
    }

    /** client_secret_post: the secret in the form. */
    record FormSecret(String clientId, String secret) implements ClientAuthentication {
        @Override
        public String apply(URI tokenUrl, Map<String, String> form) {
            form.put("client_id", clientId);
            form.put("client_secret", secret);
            return null;
        }

        @Override
        public String toString() {
            return "FormSecret[" + clientId + "]";
        }
    }

    /** private_key_jwt: a signed, short-lived assertion (SMART Backend Services, Redox, Oracle). */
    record PrivateKeyJwt(ClientAssertion assertion) implements ClientAuthentication {
        @Override
        public String apply(URI tokenUrl, Map<String, String> form) {
            form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
            form.put("client_assertion", assertion.sign(tokenUrl));
            return null;
        }
    }
}
