package org.healthexport.relay.deliver;

import org.apache.camel.Body;
import org.apache.camel.ExchangeProperty;
import org.healthexport.relay.auth.SourceAuth;
import org.healthexport.relay.config.SourceConfig;
import org.healthexport.relay.config.Sources;
import org.healthexport.relay.http.FileUnavailableException;
import org.healthexport.relay.http.RefusedFileException;
import org.healthexport.relay.http.SourceFiles;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobEvents;
import org.healthexport.relay.job.JobFile;
import org.healthexport.relay.job.JobLifecycle;
import org.healthexport.relay.job.JobStore;
import org.healthexport.relay.job.LeaseLostException;
import org.healthexport.relay.job.TargetFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The target-neutral delivery step: each planned file streamed from its source to the target, its size and
 * SHA-256 computed on the way and recorded, so a restart skips what already landed; then the receipt, last.
 */
public class Delivery {
    private static final Logger LOG = LoggerFactory.getLogger(Delivery.class);
    private static final Duration LEASE_RENEWAL = Duration.ofSeconds(10);
    private final Sources sources;
    private final JobStore store;
    private final JobLifecycle jobs;
    private final SourceFiles files;
    private final SourceAuth auth;
    private final DeliveryTarget target;
    private final ReceiptWriter receipts;
    private final JobEvents events;
    private final LineLengths.Limit lineLimit;
    /** Threads hashing files as they stream, one per file in flight (Camel's pool: stopped with the context). */
    private final ExecutorService hashers;
    private final ConcurrentMap<String, Exception> failures = new ConcurrentHashMap<>();

    public Delivery(Sources sources, JobStore store, JobLifecycle jobs, SourceFiles files, SourceAuth auth,
                    DeliveryTarget target, ReceiptWriter receipts, JobEvents events, LineLengths.Limit lineLimit,
                    ExecutorService hashers) {
        this.sources = sources;
        this.store = store;
        this.jobs = jobs;
        this.files = files;
        this.auth = auth;
        this.target = target;
        this.receipts = receipts;
        this.events = events;
        this.lineLimit = lineLimit;
        this.hashers = hashers;
    }

    public DeliveryTarget target() {
        return target;
    }

    /** The job's files not delivered yet (all of them on a first run, the rest after a restart). */
    public List<JobFile> pendingFiles(@ExchangeProperty("job") ExportJob job) {
        return store.files(job.id()).stream().filter(f -> !f.isDelivered()).toList();
    }

    /** Streams one file from the source to the target and records what landed. */
    public void deliverFile(@ExchangeProperty("job") ExportJob job, @Body JobFile file) throws IOException {
        SourceConfig source = sources.get(job.sourceId());
        boolean tokenRequired = !"false".equals(job.attribute("requiresAccessToken"));
        String accept = file.targetKey().endsWith(".ndjson") ? "application/fhir+ndjson" : "application/json";
        long started = System.nanoTime();
        LineLengths lines = file.targetKey().endsWith(".ndjson") && lineLimit.active()
                ? new LineLengths(lineLimit, file.targetKey()) : null;
        try (SourceFiles.Download in = files.open(source, URI.create(file.url()), tokenRequired,
                auth.tokens(source.id()), accept);
             // a target that hashes the bytes as it stores them (S3's streamed PUT) saves hashing them twice
             Measured measured = new Measured(in, () -> jobs.keepLease(job), lines,
                     target.hashesWhilePutting(in.length()) ? null : hashers)) {
            Optional<String> storedSha256;
            try {
                storedSha256 = target.putHashed(file.targetKey(), measured, in.length(), contentType(file.targetKey()));
            } catch (IOException | RuntimeException e) {
                if (lines != null && lines.refusal() != null) {
                    // whatever the target wrapped it in: the file is refused, not failed
                    events.oversizedLines(job, file, 1, lineLimit.mode());
                    throw new RefusedFileException(lines.refusal());
                }
                throw sourceOrTarget(e);
            }
            String note = null;
            if (lines != null) {
                lines.finish();
                note = lines.note();
            }
            store.fileDelivered(file.id(), measured.bytes, storedSha256.isPresent() ? storedSha256.get()
                    : measured.sha256(), note);
            if (note != null) {
                LOG.warn("Job {}: {}: {}", job.id(), file.targetKey(), note);
                events.oversizedLines(job, file, lines.oversizedLines(), lineLimit.mode());
            }
            LOG.info("Job {}: delivered {} ({} bytes in {} ms) to {}", job.id(), file.targetKey(), measured.bytes,
                    (System.nanoTime() - started) / 1_000_000, target.kind());
            events.fileDelivered(job, file, measured.bytes, target.kind());
        }
    }

    /**
     * The target reads the source's stream, so a put fails for either side: a source failure (tagged by
     * {@link Measured}) or a lost lease stays what it is, anything else is the target's.
     */
    private IOException sourceOrTarget(Exception e) throws IOException {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof FileUnavailableException source) {
                throw source;
            }
            if (t instanceof LeaseLostException lost) {
                throw lost;
            }
        }
        return new TargetFailedException(target.kind(), e);
    }

    /**
     * Split step: a file that failed is remembered; the other files of the job go on. The job's one fault line
     * comes from the error handler once the split is over (only at debug level here, per file).
     */
    public void fileFailed(ExportJob job, JobFile file, Exception error) {
        LOG.debug("Job {}: file {} not delivered: {}", job.id(), file.targetKey(), error.toString());
        failures.merge(job.id(), error, (first, later) -> preferred(first, later));
    }

    /**
     * After the split: the job's most telling file failure goes to the error handler (a final refusal first, then
     * an expired link, which calls for a fresh manifest, before a transient fault, which calls for a retry).
     */
    public void rethrowFileFailure(@ExchangeProperty("job") ExportJob job) throws Exception {
        Exception failure = failures.remove(job.id());
        if (failure != null) {
            throw failure;
        }
    }

    private static Exception preferred(Exception first, Exception later) {
        if (isFinal(first)) {
            return first;
        }
        return isFinal(later)
                || later instanceof FileUnavailableException f && f.isExpiredLink()
                ? later : first;
    }

    /** A failure that fetching again does not change: the same bytes refused, or the source refusing its token. */
    private static boolean isFinal(Exception failure) {
        return failure instanceof RefusedFileException
                || failure instanceof FileUnavailableException f && f.isRefusedToTheToken();
    }

    /** Writes the receipt after every file landed; the job is then complete at the target. */
    public String writeReceipt(@ExchangeProperty("job") ExportJob job) throws IOException {
        SourceConfig source = sources.get(job.sourceId());
        List<JobFile> all = store.files(job.id());
        if (all.stream().anyMatch(f -> !f.isDelivered())) {
            throw new IllegalStateException("Job " + job.id() + " still has undelivered files");
        }
        String folder = KeyLayout.folderOf(job, source);
        ReceiptWriter.Receipt receipt = receipts.receipt(job, all, target.kind(), store.now(), Map.of());
        String key;
        try {
            key = receipts.write(target, folder, receipt);
        } catch (IOException | RuntimeException e) {
            throw new TargetFailedException(target.kind(), e);
        }
        store.recordDelivery(job.id(), target.kind(), key, all.size(),
                all.stream().mapToLong(f -> f.bytes() == null ? 0 : f.bytes()).sum());
        LOG.info("Job {} of source {} delivered: {} files, receipt at {}", job.id(), job.sourceId(), all.size(),
                target.locate(key));
        return key;
    }

    static String contentType(String key) {
        if (key.endsWith(".ndjson")) {
            return "application/fhir+ndjson";
        }
        return key.endsWith(".json") ? "application/json" : "application/octet-stream";
    }

    /**
     * Counts the bytes as the target reads them, hashes them unless the target does, and measures NDJSON lines
     * when asked; keeps the job's lease alive on long files.
     */
    static final class Measured extends FilterInputStream {
        private final BackgroundSha256 digest;
        private final Runnable keepLease;
        private final LineLengths lines;
        private long bytes;
        private long lastRenewal = System.nanoTime();

        /** {@code hashers}: where the SHA-256 is computed; null when it is not wanted. */
        Measured(InputStream in, Runnable keepLease, LineLengths lines, ExecutorService hashers) {
            super(in);
            this.digest = hashers != null ? new BackgroundSha256(hashers) : null;
            this.keepLease = keepLease;
            this.lines = lines;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n;
            while ((n = read(one, 0, 1)) == 0) {
                // a stream may answer 0 bytes; a single-byte read waits for one
            }
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n;
            try {
                n = super.read(buf, off, len);
            } catch (FileUnavailableException e) {
                throw e;
            } catch (IOException e) {
                // the source's side of the transfer: not the target's fault, whatever the target wraps it in
                throw new FileUnavailableException("Source file cut after " + bytes
                        + " bytes: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": "
                        + e.getMessage()), 0);
            }
            if (n > 0) {
                if (digest != null) {
                    digest.update(buf, off, n);
                }
                bytes += n;
                if (lines != null) {
                    lines.update(buf, off, n);
                }
                if (System.nanoTime() - lastRenewal > LEASE_RENEWAL.toNanos()) {
                    lastRenewal = System.nanoTime();
                    keepLease.run();
                }
            }
            return n;
        }

        @Override
        public long skip(long n) {
            return 0; // every byte must pass through the digest
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        /** The SHA-256 of every byte read; only when made to hash. */
        String sha256() throws IOException {
            if (digest == null) {
                throw new IllegalStateException("Not hashed here: the target hashed the bytes it stored");
            }
            return digest.hex();
        }

        @Override
        public void close() throws IOException {
            try {
                super.close();
            } finally {
                if (digest != null) {
                    digest.close();
                }
            }
        }
    }
}
