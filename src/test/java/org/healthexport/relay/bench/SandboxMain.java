package org.healthexport.relay.bench;

import com.sun.net.httpserver.HttpExchange;
import org.healthexport.relay.sandbox.FhirBulkSandbox;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The FHIR Bulk Data sandbox in its own JVM, for the scripts under {@code bench/}. Arguments are
 * {@code key=value}: {@code port} (0: any; the URL is printed as {@code SANDBOX_FHIR=...}), {@code big-file-bytes},
 * {@code small-files}, {@code polls-before-ready}, {@code retry-after}, {@code patients}, {@code jobs} (kick off that
 * many exports at start and write their status URLs, one a line, to {@code jobs-file}).
 * <p>
 * It also measures the status polls it answers: for each job, the lag between the poll it gets and the time the
 * previous answer asked for (previous answer + Retry-After). {@code GET /bench/reset} starts a measuring window,
 * {@code GET /bench/stats} reports it as JSON.
 */
public final class SandboxMain {
    private SandboxMain() { }

    public static void main(String[] args) throws Exception {
        // The JDK HttpServer writes headers and body apart: without TCP_NODELAY every small answer waits ~40 ms
        // for the client's delayed ACK (Nagle), and the benchmark would measure that instead of the relay.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        int retryAfter = Integer.parseInt(a.getOrDefault("retry-after", "1"));
        Measuring sandbox = new Measuring(Integer.parseInt(a.getOrDefault("port", "0")), retryAfter);
        sandbox.pollsBeforeReady(Integer.parseInt(a.getOrDefault("polls-before-ready", "1")))
                .retryAfterSeconds(retryAfter)
                .patients(Integer.parseInt(a.getOrDefault("patients", "10")))
                .bigFileBytes(Long.parseLong(a.getOrDefault("big-file-bytes", "0")))
                .smallFiles(Integer.parseInt(a.getOrDefault("small-files", "0")));
        sandbox.recordRequests(false);
        sandbox.start();
        Runtime.getRuntime().addShutdownHook(new Thread(sandbox::stop));
        int jobs = Integer.parseInt(a.getOrDefault("jobs", "0"));
        if (jobs > 0) {
            List<String> urls = kickOff(sandbox.fhirBase(), jobs);
            Files.write(Path.of(a.get("jobs-file")), urls);
        }
        System.out.println("SANDBOX_FHIR=" + sandbox.fhirBase());
        System.out.println("SANDBOX_BASE=" + sandbox.baseUrl());
        System.out.flush();
        Thread.currentThread().join();
    }

    private static List<String> kickOff(String fhirBase, int n) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<String>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            futures.add(pool.submit(() -> http.send(HttpRequest.newBuilder(URI.create(fhirBase + "Patient/$export"))
                            .header("Accept", "application/fhir+json").header("Prefer", "respond-async").build(),
                    HttpResponse.BodyHandlers.discarding()).headers().firstValue("Content-Location").orElseThrow()));
        }
        List<String> urls = new ArrayList<>();
        for (Future<String> f : futures) {
            urls.add(f.get());
        }
        pool.shutdown();
        return urls;
    }

    /** The sandbox, plus the poll-lag measure. */
    static final class Measuring extends FhirBulkSandbox {
        private final long retryAfterNanos;
        private final Map<String, Long> lastAnswer = new ConcurrentHashMap<>();
        private final List<Long> lagsMicros = Collections.synchronizedList(new ArrayList<>());
        private final AtomicLong polls = new AtomicLong();
        private volatile long windowStart = System.nanoTime();
        private final AtomicLong firstFileAt = new AtomicLong();
        private final AtomicLong lastFileAt = new AtomicLong();
        private final AtomicLong fileRequests = new AtomicLong();

        Measuring(int port, int retryAfterSeconds) {
            super("127.0.0.1", port);
            this.retryAfterNanos = retryAfterSeconds * 1_000_000_000L;
        }

        @Override
        protected void handle(HttpExchange ex, String body) throws IOException {
            String path = ex.getRequestURI().getPath();
            if (path.equals("/bench/reset")) {
                lagsMicros.clear();
                polls.set(0);
                firstFileAt.set(0);
                lastFileAt.set(0);
                fileRequests.set(0);
                windowStart = System.nanoTime();
                send(ex, 200, "text/plain", "ok\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (path.equals("/bench/stats")) {
                sendJson(ex, 200, stats());
                return;
            }
            if (path.endsWith("/Observation-1.ndjson")) {
                long start = System.currentTimeMillis();
                try {
                    super.handle(ex, body);
                } finally {
                    System.out.println("BIG_FILE_SENT start=" + start + " end=" + System.currentTimeMillis());
                    System.out.flush();
                }
                return;
            }
            if (path.startsWith(BASE_PATH + "/files/")) {
                firstFileAt.compareAndSet(0, System.currentTimeMillis());
                super.handle(ex, body);
                fileRequests.incrementAndGet();
                lastFileAt.set(System.currentTimeMillis());
                return;
            }
            boolean poll = path.startsWith(BASE_PATH + "/jobs/") && ex.getRequestMethod().equals("GET");
            long received = System.nanoTime();
            super.handle(ex, body);
            if (poll) {
                polls.incrementAndGet();
                Long before = lastAnswer.put(path, System.nanoTime());
                if (before != null) {
                    lagsMicros.add(Math.max(0, (received - before - retryAfterNanos) / 1000));
                }
            }
        }

        private String stats() {
            long[] lags;
            synchronized (lagsMicros) {
                lags = lagsMicros.stream().mapToLong(Long::longValue).toArray();
            }
            Arrays.sort(lags);
            double seconds = (System.nanoTime() - windowStart) / 1e9;
            return String.format(Locale.ROOT,
                    "{\"firstFileAtMs\":" + firstFileAt.get() + ",\"lastFileAtMs\":" + lastFileAt.get()
                            + ",\"fileRequests\":" + fileRequests.get() + ",\"seconds\":%.1f,\"polls\":%d,\"pollsPerSecond\":%.1f,\"jobsPolled\":%d,\"lagSamples\":%d,"
                            + "\"lagP50Ms\":%.1f,\"lagP90Ms\":%.1f,\"lagP99Ms\":%.1f,\"lagMaxMs\":%.1f}",
                    seconds, polls.get(), polls.get() / seconds, lastAnswer.size(), lags.length,
                    pct(lags, 0.50), pct(lags, 0.90), pct(lags, 0.99), lags.length == 0 ? 0 : lags[lags.length - 1] / 1000.0);
        }

        private static double pct(long[] sorted, double p) {
            return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.floor(p * sorted.length))] / 1000.0;
        }
    }
}
