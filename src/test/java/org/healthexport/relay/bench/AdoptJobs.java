package org.healthexport.relay.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Adopts every status URL of a file into a relay: {@code AdoptJobs <relay base URL> <source id> <urls file>}. */
public final class AdoptJobs {
    private AdoptJobs() { }

    public static void main(String[] args) throws Exception {
        String api = args[0] + "/api/jobs";
        String source = args[1];
        List<String> urls = Files.readAllLines(Path.of(args[2]));
        HttpClient http = HttpClient.newHttpClient();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        long start = System.nanoTime();
        List<Future<Integer>> codes = new ArrayList<>();
        for (String url : urls) {
            String body = "{\"source\":\"" + source + "\",\"statusUrl\":\"" + url + "\"}";
            codes.add(pool.submit(() -> http.send(HttpRequest.newBuilder(URI.create(api))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()));
        }
        int ok = 0;
        for (Future<Integer> c : codes) {
            if (c.get() / 100 == 2) {
                ok++;
            }
        }
        pool.shutdown();
        System.out.printf("ADOPTED=%d of %d in %.1f s%n", ok, urls.size(), (System.nanoTime() - start) / 1e9);
    }
}
