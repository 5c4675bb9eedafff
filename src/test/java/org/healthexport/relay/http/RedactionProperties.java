package org.healthexport.relay.http;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * URLs as sources hand them out (presigned links, OAuth callbacks, credentials in the authority) with secrets put
 * in every place a URL carries one: after redaction no secret is left, in its encoded or decoded form, and
 * what is not secret (the host, other parameters) is still there to read.
 */
class RedactionProperties {
    private static final List<String> SECRET_NAMES = List.of("X-Amz-Signature", "X-Amz-Credential",
            "X-Amz-Security-Token", "signature", "sig", "token", "access_token", "X-Goog-Signature", "code",
            "client_secret", "api_key", "apikey", "key");

    /** A URL and the secrets it carries (as written in it, percent-encoded where needed). */
    record Case(String url, List<String> secrets, String host, List<String> keptParams) { }

    @Property(tries = 600)
    void noSecretSurvives(@ForAll("urls") Case c) {
        String redacted = Redaction.url(c.url());
        for (String secret : c.secrets()) {
            assertThat(redacted).as(c.url()).doesNotContain(secret);
            assertThat(redacted).as(c.url()).doesNotContain(decode(secret));
        }
    }

    @Property(tries = 200)
    void whatIsNotSecretIsKept(@ForAll("urls") Case c) {
        String redacted = Redaction.url(c.url());
        assertThat(redacted).as(c.url()).startsWith(c.url().substring(0, c.url().indexOf("://") + 3));
        assertThat(redacted.toLowerCase(Locale.ROOT)).contains(c.host().toLowerCase(Locale.ROOT));
        for (String param : c.keptParams()) {
            assertThat(redacted).as(c.url()).contains(param);
        }
    }

    @Property(tries = 500)
    void anyTextIsRedactedWithoutThrowing(@ForAll("anyText") String text) {
        String redacted = Redaction.url(text);
        assertThat(redacted).isNotNull();
    }

    @Provide
    Arbitrary<String> anyText() {
        return Arbitraries.oneOf(Arbitraries.strings().all().ofMaxLength(80),
                Arbitraries.strings().withChars("htps:/?#&=@%[]._-aZ09;+ ").ofMaxLength(60).map(s -> "https://" + s));
    }

    @Provide
    Arbitrary<Case> urls() {
        Arbitrary<String> secret = Arbitraries.strings().all().ofMinLength(6).ofMaxLength(30)
                .filter(s -> !s.isBlank()).map(s -> "S3cr" + s);
        Arbitrary<String> host = Arbitraries.of("fhir.example.org", "FHIR.Example.org", "my_bucket.s3.example.com",
                "127.0.0.1", "[::1]", "storage.example.net:8443", "xn--fhr-5qa.example");
        Arbitrary<String> secretName = Arbitraries.of(SECRET_NAMES).flatMap(RedactionProperties::spelledAnyWay);
        Arbitrary<String> plainName = Arbitraries.of("part", "_format", "type", "X-Amz-Algorithm", "page", "keys");
        Arbitrary<String> plainValue = Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(8);
        return Combinators.combine(Arbitraries.of("https", "http", "HTTPS"), host,
                        secret.optional(), secretName.list().ofMaxSize(4), secret.list().ofMinSize(4).ofMaxSize(4),
                        plainName.list().ofMaxSize(3), plainValue, Arbitraries.of("query", "fragment", "both"))
                .as((scheme, h, userSecret, names, values, plains, plainValue2, where) -> {
                    List<String> secrets = new ArrayList<>();
                    List<String> kept = new ArrayList<>();
                    List<String> params = new ArrayList<>();
                    for (int i = 0; i < names.size(); i++) {
                        String v = encode(values.get(i));
                        secrets.add(v);
                        params.add(names.get(i) + "=" + v);
                    }
                    for (String p : plains) {
                        String kv = p + "=" + plainValue2;
                        kept.add(kv);
                        params.add(params.size() / 2, kv);
                    }
                    String query = String.join("&", params);
                    String auth = userSecret.map(s -> {
                        String enc = encode(s);
                        secrets.add(enc);
                        return "user:" + enc + "@";
                    }).orElse("");
                    String url = scheme + "://" + auth + h + "/r4/files/1.ndjson"
                            + (where.equals("fragment") ? "" : "?" + query)
                            + (where.equals("query") ? "" : "#" + query);
                    String bareHost = h.startsWith("[") ? h : h.split(":")[0];
                    return new Case(url, secrets, bareHost, kept);
                });
    }

    /** A parameter name as a client may write it: any case, some characters percent-encoded. */
    private static Arbitrary<String> spelledAnyWay(String name) {
        return Arbitraries.integers().between(0, (1 << Math.min(name.length(), 20)) - 1).flatMap(mask ->
                Arbitraries.of(0, 1, 2).map(mode -> {
                    StringBuilder sb = new StringBuilder();
                    for (int i = 0; i < name.length(); i++) {
                        char c = name.charAt(i);
                        boolean flip = i < 20 && (mask & (1 << i)) != 0;
                        if (mode == 1 && flip) {
                            sb.append(Character.isUpperCase(c) ? Character.toLowerCase(c) : Character.toUpperCase(c));
                        } else if (mode == 2 && flip) {
                            sb.append(String.format("%%%02X", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                    return sb.toString();
                }));
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
