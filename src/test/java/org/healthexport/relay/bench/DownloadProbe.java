package org.healthexport.relay.bench;

import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.healthexport.relay.job.Hashes;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;

/**
 * Where a download's time goes: {@code DownloadProbe <url> <file> <mode>...} times the JDK HttpClient's
 * InputStream copied to a file (mode {@code plain}), with SHA-256 ({@code sha}), with a larger copy buffer
 * ({@code sha-big}), and the same to /dev/null ({@code null}).
 */
public final class DownloadProbe {
    private DownloadProbe() { }

    public static void main(String[] args) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 2; i < args.length; i++) {
            String mode = args[i];
            long t0 = System.nanoTime();
            InputStream body;
            if (mode.startsWith("urlc")) {
                body = URI.create(args[0]).toURL().openConnection().getInputStream();
            } else if (mode.startsWith("hc5")) {
                var client = HttpClients.createDefault();
                body = client.executeOpen(null, new HttpGet(args[0]), null)
                        .getEntity().getContent();
            } else {
                body = http.send(HttpRequest.newBuilder(URI.create(args[0])).build(),
                        HttpResponse.BodyHandlers.ofInputStream()).body();
            }
            InputStream in = mode.contains("sha") ? new DigestInputStream(body, Hashes.sha256()) : body;
            long n;
            try (in; OutputStream out = mode.equals("null") ? OutputStream.nullOutputStream()
                    : Files.newOutputStream(Path.of(args[1]))) {
                if (mode.endsWith("big")) {
                    byte[] buf = new byte[256 * 1024];
                    n = 0;
                    for (int k; (k = in.read(buf)) >= 0; ) {
                        out.write(buf, 0, k);
                        n += k;
                    }
                } else {
                    n = in.transferTo(out);
                }
            }
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%-8s %.1f MiB/s (%.2f s)%n", mode, n / s / 1048576, s);
        }
    }
}
