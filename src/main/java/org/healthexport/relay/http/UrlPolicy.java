package org.healthexport.relay.http;

import org.healthexport.relay.config.SourceConfig;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Which URLs a source's files and redirects may point at: http(s) only; a host on the source's allow list
 * (its own origin plus {@code allowed-hosts}); and, after a redirect, no loopback, link-local or private
 * address unless the source itself lives on one (a sandbox, an on-premises server) or allows that host.
 */
public final class UrlPolicy {
    private UrlPolicy() {
    }

    public static void checkFileUrl(SourceConfig source, URI url) {
        checkScheme(url);
        if (!source.allowsHost(url)) {
            throw new RefusedUrlException("URL host " + SourceConfig.origin(url) + " is not the origin of "
                    + source + " nor in its allowed-hosts");
        }
    }

    /**
     * A status URL gets the source's token on every poll, so it must be on the source's own origin: allowed-hosts
     * (presigned storage) do not count here.
     */
    public static void checkStatusUrl(SourceConfig source, URI url) {
        checkScheme(url);
        if (source.origin() == null || !source.origin().equals(SourceConfig.origin(url))) {
            throw new RefusedUrlException("Status URL origin " + SourceConfig.origin(url) + " is not the origin of "
                    + source);
        }
    }

    public static void checkRedirect(SourceConfig source, URI target) {
        checkScheme(target);
        if (source.allowsHost(target) || sameHost(source, target)) {
            // the source's own host on another port (its storage, a simulator's "S3") is trusted for redirects:
            // a redirect never carries the token, which goes to the source's exact origin only
            return;
        }
        if (isInternal(target.getHost()) && (source.baseUrl() == null || !isInternal(source.baseUrl().getHost()))) {
            throw new RefusedUrlException("Redirect to internal address " + SourceConfig.origin(target) + " refused");
        }
        if (source.flag("redirects-anywhere", false)) {
            return;
        }
        // Redirects commonly leave the origin for presigned storage (Oracle's S3); those hosts are listed in
        // allowed-hosts, or the source opts in with redirects-anywhere.
        throw new RefusedUrlException("Redirect to " + SourceConfig.origin(target) + " is outside the allowed hosts of "
                + source);
    }

    private static boolean sameHost(SourceConfig source, URI target) {
        return source.baseUrl() != null && source.baseUrl().getHost() != null && target.getHost() != null
                && source.baseUrl().getHost().equalsIgnoreCase(target.getHost());
    }

    private static void checkScheme(URI url) {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new RefusedUrlException("Only http and https URLs are followed, not '" + scheme + "'");
        }
        if (url.getHost() == null) {
            throw new RefusedUrlException("URL has no host");
        }
    }

    static boolean isInternal(String host) {
        if (host == null) {
            return true;
        }
        String h = host.toLowerCase(Locale.ROOT);
        if (h.equals("localhost") || h.endsWith(".localhost") || h.endsWith(".local") || h.endsWith(".internal")) {
            return true;
        }
        try {
            for (InetAddress a : InetAddress.getAllByName(h.startsWith("[") ? h.substring(1, h.length() - 1) : h)) {
                if (a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress() || a.isAnyLocalAddress()
                        || isUniqueLocalV6(a) || isThisNetworkOrSharedV4(a)) {
                    return true;
                }
            }
            return false;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /**
     * 0.0.0.0/8 ("this network": Linux connects 0.x to the host itself) and 100.64.0.0/10 (RFC 6598 shared
     * space, where some clouds serve instance metadata), which the JDK does not count as local.
     */
    private static boolean isThisNetworkOrSharedV4(InetAddress a) {
        byte[] b = a.getAddress();
        return b.length == 4 && (b[0] == 0 || (b[0] == 100 && (b[1] & 0xc0) == 64));
    }

    private static boolean isUniqueLocalV6(InetAddress a) {
        byte[] b = a.getAddress();
        return b.length == 16 && (b[0] & 0xfe) == 0xfc;
    }

    /** A URL the relay will not call; the job fails with this reason rather than leak a request. */
    public static class RefusedUrlException extends RuntimeException {
        public RefusedUrlException(String message) {
            super(message);
        }
    }
}
