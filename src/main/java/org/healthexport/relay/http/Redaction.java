package org.healthexport.relay.http;

import java.net.URI;
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

    private Redaction() {
    }

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
        String query = uri.getRawQuery();
        String base = url.contains("?") ? url.substring(0, url.indexOf('?')) : url;
        if (uri.getRawUserInfo() != null) {
            base = base.replace(uri.getRawUserInfo() + "@", "REDACTED@");
        }
        if (query == null) {
            return base;
        }
        Matcher m = PARAM.matcher(query);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String value = SECRET_PARAMS.contains(name.toLowerCase(Locale.ROOT)) ? "REDACTED" : m.group(2);
            m.appendReplacement(out, Matcher.quoteReplacement(name + "=" + value));
        }
        m.appendTail(out);
        return base + "?" + out;
    }
}
