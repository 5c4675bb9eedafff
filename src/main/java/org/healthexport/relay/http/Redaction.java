package org.healthexport.relay.http;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Takes capability secrets out of URLs before they are logged or written to a receipt: presigned links carry
 * their signature and session token in the query, which is as good as a password until it expires.
 */
public final class Redaction {
    private static final Set<String> SECRET_PARAMS = Set.of("x-amz-signature", "x-amz-credential",
            "x-amz-security-token", "signature", "sig", "token", "access_token", "x-goog-signature", "code",
            "client_secret", "api_key", "apikey", "key");
    private static final Pattern PARAM = Pattern.compile("([^&=]+)=([^&]*)");
    private static final Pattern URL_IN_TEXT = Pattern.compile("https?://[^\\s\"'<>]+");
    private static final Pattern CREDENTIALS = Pattern.compile("(?i)(bearer|basic)\\s+[A-Za-z0-9._~+/=-]+");

    private Redaction() {
    }

    /**
     * The URL with the values of secret parameters (in the query, and in the fragment, where OAuth puts tokens)
     * and any user info replaced by {@code REDACTED}; a text that is not a URL becomes {@code (unparsable URL)}.
     */
    public static String url(String url) {
        if (url == null) {
            return null;
        }
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return "(unparsable URL)";
        }
        int hash = url.indexOf('#');
        String fragment = hash < 0 ? null : url.substring(hash + 1);
        String beforeFragment = hash < 0 ? url : url.substring(0, hash);
        int q = beforeFragment.indexOf('?');
        String query = q < 0 ? null : beforeFragment.substring(q + 1);
        String base = q < 0 ? beforeFragment : beforeFragment.substring(0, q);
        // The raw authority, not the user info: a host the JDK does not read as a server (my_bucket.example)
        // leaves getRawUserInfo() null although "user:password@" is there.
        String authority = uri.getRawAuthority();
        if (authority != null && authority.contains("@")) {
            base = base.replace(authority, "REDACTED" + authority.substring(authority.lastIndexOf('@')));
        }
        return base + (query == null ? "" : "?" + params(query)) + (fragment == null ? "" : "#" + params(fragment));
    }

    /**
     * A free text (an error, a vendor's message) with every URL in it passed through {@link #url(String)} and
     * bearer or basic credentials replaced by {@code REDACTED}: for what is stored with a job and shown by the API.
     */
    public static String text(String text) {
        if (text == null) {
            return null;
        }
        Matcher m = URL_IN_TEXT.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(url(m.group())));
        }
        m.appendTail(out);
        return CREDENTIALS.matcher(out).replaceAll("$1 REDACTED");
    }

    private static String params(String text) {
        Matcher m = PARAM.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String value = isSecret(name) ? "REDACTED" : m.group(2);
            m.appendReplacement(out, Matcher.quoteReplacement(name + "=" + value));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Servers decode parameter names, so {@code X-Amz-%53ignature} is the signature too. */
    private static boolean isSecret(String rawName) {
        String name;
        try {
            name = URLDecoder.decode(rawName, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            name = rawName;
        }
        return SECRET_PARAMS.contains(name.trim().toLowerCase(Locale.ROOT))
                || SECRET_PARAMS.contains(rawName.toLowerCase(Locale.ROOT));
    }
}
