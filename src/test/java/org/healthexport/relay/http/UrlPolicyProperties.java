package org.healthexport.relay.http;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.SourceConfigs;

import java.net.URI;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * URLs a vendor may hand out, on every scheme, host, port and address family: a file URL is refused unless it
 * is on the source's origin or its allowed-hosts, a status URL unless it is on the source's origin, and a redirect
 * (even with redirects-anywhere) to a loopback, link-local, private or otherwise internal address.
 * Hosts are IP literals or reserved names, so no property waits on DNS.
 */
class UrlPolicyProperties {
    private static final SourceConfig SOURCE = source("https://fhir.example.org/r4",
            "*.s3.example.com,https://cdn.example.net:443", false);
    private static final SourceConfig ANYWHERE = source("https://fhir.example.org/r4", null, true);

    static SourceConfig source(String baseUrl, String allowedHosts, boolean redirectsAnywhere) {
        Map<String, String> keys = new HashMap<>();
        keys.put("base-url", baseUrl);
        keys.put("redirects-anywhere", String.valueOf(redirectsAnywhere));
        keys.put("allowed-hosts", allowedHosts);
        return SourceConfigs.source("s", "fhir-bulk", keys);
    }

    @Provide
    Arbitrary<URI> anyUrl() {
        Arbitrary<String> scheme = Arbitraries.of("https", "http", "HTTPS", "ftp", "file", "javascript", "gopher");
        Arbitrary<String> host = Arbitraries.oneOf(
                Arbitraries.of("fhir.example.org", "FHIR.EXAMPLE.ORG", "fhir.example.org.evil.test", "evil.test",
                        "example.org", "cdn.example.net", "s3.example.com", "bucket.s3.example.com",
                        "bucket.s3.example.com.evil.test", "evil-s3.example.com", "127.0.0.1", "[::1]", "10.0.0.1"),
                Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(8).map(s -> s + ".test"));
        Arbitrary<String> port = Arbitraries.of("", ":443", ":80", ":8443", ":1", ":65535");
        Arbitrary<String> userInfo = Arbitraries.of("", "", "fhir.example.org@", "u:p@");
        return Combinators.combine(scheme, userInfo, host, port).as((s, u, h, p) -> URI.create(s + "://" + u + h + p
                + "/files/1.ndjson"));
    }

    @Property(tries = 500)
    void aFileUrlIsFollowedOnlyOnTheSourceOrItsAllowedHosts(@ForAll("anyUrl") URI url) {
        String scheme = url.getScheme().toLowerCase(Locale.ROOT);
        String host = url.getHost().toLowerCase(Locale.ROOT);
        int port = url.getPort() != -1 ? url.getPort() : scheme.equals("https") ? 443 : 80;
        boolean allowed = (scheme.equals("https") || scheme.equals("http"))
                && ((scheme.equals("https") && port == 443 && (host.equals("fhir.example.org") || host.equals("cdn.example.net")))
                || host.endsWith(".s3.example.com"));
        if (allowed) {
            assertThatCode(() -> UrlPolicy.checkFileUrl(SOURCE, url)).as(url.toString()).doesNotThrowAnyException();
        } else {
            assertThatThrownBy(() -> UrlPolicy.checkFileUrl(SOURCE, url)).as(url.toString())
                    .isInstanceOf(UrlPolicy.RefusedUrlException.class);
        }
    }

    @Property(tries = 500)
    void aStatusUrlIsFollowedOnlyOnTheSourcesOwnOrigin(@ForAll("anyUrl") URI url) {
        String scheme = url.getScheme().toLowerCase(Locale.ROOT);
        boolean own = scheme.equals("https") && url.getHost().equalsIgnoreCase("fhir.example.org")
                && (url.getPort() == -1 || url.getPort() == 443);
        if (own) {
            assertThatCode(() -> UrlPolicy.checkStatusUrl(SOURCE, url)).doesNotThrowAnyException();
        } else {
            assertThatThrownBy(() -> UrlPolicy.checkStatusUrl(SOURCE, url)).as(url.toString())
                    .isInstanceOf(UrlPolicy.RefusedUrlException.class);
        }
    }

    /** Loopback, "this network", private (RFC 1918), shared (RFC 6598, where some clouds keep metadata), link-local. */
    @Provide
    Arbitrary<String> internalHost() {
        Arbitrary<Integer> octet = Arbitraries.integers().between(0, 255);
        Arbitrary<String> v4 = Arbitraries.oneOf(
                Combinators.combine(octet, octet, octet).as((a, b, c) -> "127." + a + "." + b + "." + c),
                Combinators.combine(octet, octet, octet).as((a, b, c) -> "0." + a + "." + b + "." + c),
                Combinators.combine(octet, octet, octet).as((a, b, c) -> "10." + a + "." + b + "." + c),
                Combinators.combine(Arbitraries.integers().between(16, 31), octet, octet)
                        .as((a, b, c) -> "172." + a + "." + b + "." + c),
                Combinators.combine(octet, octet).as((b, c) -> "192.168." + b + "." + c),
                Combinators.combine(octet, octet).as((b, c) -> "169.254." + b + "." + c),
                Combinators.combine(Arbitraries.integers().between(64, 127), octet, octet)
                        .as((a, b, c) -> "100." + a + "." + b + "." + c));
        Arbitrary<Integer> word = Arbitraries.integers().between(0, 0xffff);
        Arbitrary<String> v6 = Arbitraries.oneOf(
                Arbitraries.just("[::1]"), Arbitraries.just("[::]"),
                Combinators.combine(Arbitraries.integers().between(0xfe80, 0xfebf), word)
                        .as((a, b) -> String.format("[%x::%x]", a, b)),
                Combinators.combine(Arbitraries.integers().between(0xfc00, 0xfdff), word)
                        .as((a, b) -> String.format("[%x:%x::1]", a, b)),
                v4.map(a -> "[::ffff:" + a + "]"));
        Arbitrary<String> names = Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(6)
                .flatMap(s -> Arbitraries.of("localhost", s + ".localhost", s + ".local", s + ".internal",
                        "LOCALHOST", s + ".Internal"));
        return Arbitraries.oneOf(v4, v6, names);
    }

    @Property(tries = 500)
    void aRedirectToAnInternalAddressIsRefusedEvenWhenRedirectsMayGoAnywhere(
            @ForAll("internalHost") String host, @ForAll("scheme") String scheme,
            @ForAll("port") String port) {
        URI target = URI.create(scheme + "://" + host + port + "/latest/meta-data");
        assertThatThrownBy(() -> UrlPolicy.checkRedirect(ANYWHERE, target)).as(target.toString())
                .isInstanceOf(UrlPolicy.RefusedUrlException.class);
        assertThatThrownBy(() -> UrlPolicy.checkRedirect(SOURCE, target)).as(target.toString())
                .isInstanceOf(UrlPolicy.RefusedUrlException.class);
    }

    @Property(tries = 300)
    void aRedirectToAPublicAddressNeedsAnAllowedHostOrRedirectsAnywhere(
            @ForAll("publicHost") String host, @ForAll("scheme") String scheme, @ForAll("port") String port) {
        URI target = URI.create(scheme + "://" + host + port + "/x");
        assertThatCode(() -> UrlPolicy.checkRedirect(ANYWHERE, target)).doesNotThrowAnyException();
        assertThatThrownBy(() -> UrlPolicy.checkRedirect(SOURCE, target)).as(target.toString())
                .isInstanceOf(UrlPolicy.RefusedUrlException.class);
    }

    @Provide
    Arbitrary<String> publicHost() {
        Arbitrary<Integer> octet = Arbitraries.integers().between(0, 255);
        return Arbitraries.oneOf(
                Combinators.combine(Arbitraries.of(8, 20, 52, 93, 151, 185, 203), octet, octet, octet)
                        .as((a, b, c, d) -> a + "." + b + "." + c + "." + d),
                Arbitraries.integers().between(0, 0xffff).map(w -> String.format("[2001:db8::%x]", w)));
    }

    @Provide
    Arbitrary<String> scheme() {
        return Arbitraries.of("http", "https", "HTTP");
    }

    @Provide
    Arbitrary<String> port() {
        return Arbitraries.of("", ":80", ":8080", ":443", ":9000");
    }

    @Property(tries = 200)
    void otherSchemesAreNeverFollowed(@ForAll("anyUrl") URI url) {
        String scheme = url.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            assertThatThrownBy(() -> UrlPolicy.checkRedirect(ANYWHERE, url)).isInstanceOf(UrlPolicy.RefusedUrlException.class);
            assertThatThrownBy(() -> UrlPolicy.checkFileUrl(SOURCE, url)).isInstanceOf(UrlPolicy.RefusedUrlException.class);
        } else {
            assertThat(scheme).isIn("http", "https");
        }
    }
}
