package org.healthexport.relay.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;

import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Locale;
import java.util.TreeMap;
import java.util.function.Supplier;
import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The jobs, their files and deliveries, in H2 or PostgreSQL. Due jobs are claimed with a lease, so relays
 * sharing one database never work on the same job at once, and a dead relay's jobs return when it lapses.
 * The leases are kept in the job rows, except on an embedded H2 database, which no other process can open:
 * there they are kept in this process ({@link LocalLeases}).
 */
public class JobStore {
    private static final TypeReference<Map<String, String>> ATTRIBUTES = new TypeReference<>() { };
    // also the predicate of PostgreSQL's claim index (db/postgresql/V5), which StoreSchemaTest holds to JobState.ACTIVE
    private static final String ACTIVE_STATES = "'SUBMITTED','RUNNING','READY','DELIVERING'";
    private static final List<JobState> ACTIVE = List.of(JobState.SUBMITTED, JobState.RUNNING, JobState.READY,
            JobState.DELIVERING);

    private final DataSource dataSource;
    private final Clock clock;
    private final ObjectMapper json = new ObjectMapper();
    private final StoreSchema schema;
    private volatile boolean postgres;
    private volatile boolean schemaReady;
    /** The leases when only this process can open the store (embedded H2); else they are kept in the rows. */
    private final LocalLeases localLeases = new LocalLeases();
    private volatile boolean leasesInRows = true;

    /** A store whose schema is already current. */
    public JobStore(DataSource dataSource, Clock clock) {
        this(dataSource, clock, StoreSchema.current(dataSource));
    }

    /** A store whose schema may still be migrating: every statement first waits for {@code schema}. */
    public JobStore(DataSource dataSource, Clock clock, StoreSchema schema) {
        this.dataSource = dataSource;
        this.clock = clock;
        this.schema = schema;
    }

    /** Waits for the schema (see {@link StoreSchema#await()}). */
    public boolean isPostgres() {
        awaitSchema();
        return postgres;
    }

    /** True once the schema is current (or its migration failed): {@link #isPostgres()} then answers at once. */
    public boolean isSchemaSettled() {
        return schemaReady || schema.isDone();
    }

    private void awaitSchema() {
        if (!schemaReady) {
            boolean pg = schema.await();
            boolean inRows = pg || !(dataSource instanceof HikariDataSource pool)
                    || !LocalLeases.sufficeFor(pool.getJdbcUrl());
            postgres = pg;
            leasesInRows = inRows;
            schemaReady = true;
        }
    }

    /**
     * True when leases are written to the job rows, for relays sharing the database; false on embedded H2, told
     * from the pool's JDBC URL (H2's own metadata drops the URL's settings, AUTO_SERVER among them); a store on
     * some other data source keeps them in the rows.
     */
    boolean keepsLeasesInRows() {
        awaitSchema();
        return leasesInRows;
    }

    /** A pooled connection, once the schema is current. */
    private Connection connection() throws SQLException {
        awaitSchema();
        return dataSource.getConnection();
    }

    public Instant now() {
        return clock.instant();
    }

    /** Creates the job, or returns the one already stored for the same vendor job (adoption is idempotent). */
    public Adoption adopt(NewJob job, JobState state, Instant firstPoll, Instant deadline) {
        String key = job.dedupKey();
        Optional<ExportJob> existing = findByDedupKey(job.sourceId(), key);
        if (existing.isPresent()) {
            return new Adoption(existing.get(), false);
        }
        Instant now = now();
        String id = UUID.randomUUID().toString();
        String sql = "INSERT INTO export_job (id, source_id, kind, vendor_job_id, status_url, dedup_key, state, "
                + "next_poll_at, deadline_at, request_url, attributes, created_at, updated_at) "
                + "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";
        try (Connection c = connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, id);
            ps.setString(2, job.sourceId());
            ps.setString(3, job.kind());
            ps.setString(4, job.vendorJobId());
            ps.setString(5, job.statusUrl());
            ps.setString(6, key);
            ps.setString(7, state.name());
            setInstant(ps, 8, firstPoll);
            setInstant(ps, 9, deadline);
            ps.setString(10, job.requestUrl());
            ps.setString(11, toJson(job.attributes()));
            setInstant(ps, 12, now);
            setInstant(ps, 13, now);
            ps.executeUpdate();
        } catch (SQLException e) {
            // Lost a race with another adopter of the same job: theirs is the job.
            Optional<ExportJob> raced = findByDedupKey(job.sourceId(), key);
            if (raced.isPresent()) {
                return new Adoption(raced.get(), false);
            }
            throw failed("Cannot store job for source " + job.sourceId(), e);
        }
        return new Adoption(find(id).orElseThrow(), true);
    }

    public record Adoption(ExportJob job, boolean created) { }

    public Optional<ExportJob> find(String id) {
        return queryJobs("SELECT * FROM export_job WHERE id = ?", id).stream().findFirst();
    }

    public ExportJob get(String id) {
        return find(id).orElseThrow(() -> new StoreException("No job " + id, null));
    }

    /** The stored job that is {@code job} (the same vendor job, or the same slot), if any. */
    public Optional<ExportJob> findAdopted(NewJob job) {
        return findByDedupKey(job.sourceId(), job.dedupKey());
    }

    private Optional<ExportJob> findByDedupKey(String sourceId, String key) {
        return queryJobs("SELECT * FROM export_job WHERE source_id = ? AND dedup_key = ?", sourceId, key)
                .stream().findFirst();
    }

    public List<ExportJob> list(JobState state, int limit) {
        return state == null
                ? queryJobs("SELECT * FROM export_job ORDER BY created_at DESC LIMIT " + limit)
                : queryJobs("SELECT * FROM export_job WHERE state = ? ORDER BY created_at DESC LIMIT " + limit,
                        state.name());
    }

    /** Active jobs of one source: a kind that allows one export at a time asks before kicking off. */
    public List<ExportJob> activeJobsOf(String sourceId) {
        return queryJobs("SELECT * FROM export_job WHERE source_id = ? AND state IN (" + ACTIVE_STATES + ")",
                sourceId);
    }

    /**
     * Active jobs of one source whose attribute {@code name} is {@code value} (one patient's, say). Matched in the
     * database on the attributes' stored JSON, so a source with many jobs in flight is not read whole for one of
     * them; there is no index on an attribute, so the database still scans the source's active rows.
     */
    public List<ExportJob> activeJobsWith(String sourceId, String name, String value) {
        String pair = toJson(Map.of(name, value));
        String pattern = "%" + pair.substring(1, pair.length() - 1).replace("!", "!!").replace("%", "!%")
                .replace("_", "!_") + "%";
        return queryJobs("SELECT * FROM export_job WHERE source_id = ? AND state IN (" + ACTIVE_STATES + ")"
                + " AND attributes LIKE ? ESCAPE '!'", sourceId, pattern).stream()
                .filter(j -> value.equals(j.attribute(name))).toList();
    }

    /** The newest job of a source, in any state. */
    public Optional<ExportJob> newestJobOf(String sourceId) {
        return queryJobs("SELECT * FROM export_job WHERE source_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
                sourceId).stream().findFirst();
    }

    public Map<JobState, Long> countByState() {
        return again(this::countByStateOnce);
    }

    private Map<JobState, Long> countByStateOnce() {
        Map<JobState, Long> counts = new EnumMap<>(JobState.class);
        for (JobState s : JobState.values()) {
            counts.put(s, 0L);
        }
        try (Connection c = connection();
             PreparedStatement ps = c.prepareStatement("SELECT state, COUNT(*) FROM export_job GROUP BY state");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                counts.put(JobState.valueOf(rs.getString(1)), rs.getLong(2));
            }
        } catch (SQLException e) {
            throw failed("Cannot count jobs", e);
        }
        return counts;
    }

    /** Jobs by state and kind, in one query: the metrics gauges (the store is shared by every replica). */
    public Map<JobState, Map<String, Long>> countByStateAndKind() {
        return again(this::countByStateAndKindOnce);
    }

    private Map<JobState, Map<String, Long>> countByStateAndKindOnce() {
        Map<JobState, Map<String, Long>> counts = new EnumMap<>(JobState.class);
        try (Connection c = connection();
             PreparedStatement ps = c.prepareStatement("SELECT state, kind, COUNT(*) FROM export_job GROUP BY state, kind");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                counts.computeIfAbsent(JobState.valueOf(rs.getString(1)), s -> new TreeMap<>())
                        .put(rs.getString(2), rs.getLong(3));
            }
        } catch (SQLException e) {
            throw failed("Cannot count jobs", e);
        }
        return counts;
    }

    /**
     * Claims up to {@code max} due jobs for {@code owner} until {@code lease} has passed. On PostgreSQL rows
     * are locked with SKIP LOCKED, so concurrent claimers never wait for nor take each other's rows; on a shared
     * H2 database each row is taken by a conditional update, which is atomic per row; on an embedded one the
     * leases are taken in this process.
     */
    public List<ExportJob> claimDue(String owner, Duration lease, int max) {
        Instant now = now();
        Instant until = now.plus(lease);
        if (isPostgres()) {
            String sql = "UPDATE export_job SET lease_owner = ?, lease_until = ? WHERE id IN ("
                    + "SELECT id FROM export_job WHERE state IN (" + ACTIVE_STATES + ") AND next_poll_at <= ? "
                    + "AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_poll_at LIMIT ? "
                    + "FOR UPDATE SKIP LOCKED) RETURNING *";
            List<ExportJob> jobs = new ArrayList<>();
            try (Connection c = connection(); PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, owner);
                setInstant(ps, 2, until);
                setInstant(ps, 3, now);
                setInstant(ps, 4, now);
                ps.setInt(5, max);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        jobs.add(readJob(rs));
                    }
                }
            } catch (SQLException e) {
                throw failed("Cannot claim due jobs", e);
            }
            jobs.sort((a, b) -> a.nextPollAt().compareTo(b.nextPollAt()));
            return jobs;
        }
        if (!leasesInRows) {
            return claimLocally(owner, now, until, max);
        }
        List<ExportJob> candidates = dueCandidates(now, max);
        List<ExportJob> claimed = new ArrayList<>();
        String take = "UPDATE export_job SET lease_owner = ?, lease_until = ? WHERE id = ? "
                + "AND (lease_until IS NULL OR lease_until < ?)";
        if (candidates.isEmpty()) {
            return claimed;
        }
        // one batch in one transaction: a commit per row was most of what a claim still cost (docs/benchmarks.md)
        try (Connection c = connection(); PreparedStatement ps = c.prepareStatement(take)) {
            c.setAutoCommit(false);
            try {
                for (ExportJob job : candidates) {
                    ps.setString(1, owner);
                    setInstant(ps, 2, until);
                    ps.setString(3, job.id());
                    setInstant(ps, 4, now);
                    ps.addBatch();
                }
                int[] taken = ps.executeBatch();
                c.commit();
                for (int i = 0; i < taken.length; i++) {
                    if (taken[i] == 1) {
                        claimed.add(candidates.get(i));
                    }
                }
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw failed("Cannot claim due jobs", e);
        }
        return claimed;
    }

    /**
     * Embedded H2: the due jobs read as for a shared H2 store, their leases taken in this process. The jobs in
     * flight are due too until their step's update moves them on, so as many more are read as leases are held.
     */
    private List<ExportJob> claimLocally(String owner, Instant now, Instant until, int max) {
        localLeases.forgetLapsed(now);
        List<ExportJob> claimed = new ArrayList<>();
        for (ExportJob job : dueCandidates(now, max + localLeases.held())) {
            if (claimed.size() == max) {
                break;
            }
            if (localLeases.take(job, owner, now, until)) {
                claimed.add(job);
            }
        }
        return claimed;
    }

    /**
     * H2: the first {@code max} due jobs by next poll time (unleased ones only, with {@code leasesInRows}), read
     * as one ordered index range per active state (export_job_state_due) and merged. One query over all active
     * states made H2 read and sort every active job on every claim: with 10,000 jobs in flight that was most of
     * the relay's CPU. The order names state (one value per query) because H2 reads a range in index order only
     * when ORDER BY starts with the index's first column.
     */
    private List<ExportJob> dueCandidates(Instant now, int max) {
        return again(() -> {
            List<ExportJob> due = new ArrayList<>();
            try (Connection c = connection(); PreparedStatement ps = c.prepareStatement(
                    "SELECT * FROM export_job WHERE state = ? AND next_poll_at <= ? "
                            + (leasesInRows ? "AND (lease_until IS NULL OR lease_until < ?) " : "")
                            + "ORDER BY state, next_poll_at LIMIT ?")) {
                for (JobState state : ACTIVE) {
                    int i = 1;
                    ps.setString(i++, state.name());
                    setInstant(ps, i++, now);
                    if (leasesInRows) {
                        setInstant(ps, i++, now);
                    }
                    ps.setInt(i, max);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            due.add(readJob(rs));
                        }
                    }
                }
            } catch (SQLException e) {
                throw failed("Cannot read jobs", e);
            }
            due.sort(Comparator.comparing(ExportJob::nextPollAt));
            return due.size() > max ? due.subList(0, max) : due;
        });
    }

    /** Extends the lease of a job still being worked on (long deliveries); false when it was lost. */
    public boolean renewLease(String jobId, String owner, Duration lease) {
        if (!keepsLeasesInRows()) {
            return localLeases.renew(jobId, owner, now().plus(lease));
        }
        return again(() -> execute("UPDATE export_job SET lease_until = ? WHERE id = ? AND lease_owner = ?",
                now().plus(lease), jobId, owner)) == 1;
    }

    public int releaseAll(String owner) {
        if (!keepsLeasesInRows()) {
            return localLeases.releaseAllExcept(owner, List.of());
        }
        return again(() -> execute("UPDATE export_job SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?",
                owner));
    }

    /**
     * Hands back every lease {@code owner} holds except on the jobs it is working on: after a lost connection a
     * claim may have been committed without its answer arriving, or a step's last update (which releases the
     * lease) may not have landed; those jobs would otherwise wait for their lease to run out.
     */
    public int releaseAllExcept(String owner, Collection<String> working) {
        if (!keepsLeasesInRows()) {
            return localLeases.releaseAllExcept(owner, working);
        }
        List<Object> args = new ArrayList<>();
        args.add(owner);
        args.addAll(working);
        String keep = working.isEmpty() ? "" : " AND id NOT IN (" + String.join(",",
                Collections.nCopies(working.size(), "?")) + ")";
        return again(() -> execute("UPDATE export_job SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?"
                + keep, args.toArray()));
    }

    /**
     * Applies a step's changes to {@code job}, the caller's copy (as claimed, or as the last update returned it),
     * and returns the job as now stored, built from that copy: one UPDATE, no read. The update lands only while
     * the stored job is still that copy ({@code updated_at}, which every update moves forward); should the copy
     * be behind (a step changed the job and the route kept the older copy), the stored job is read and the
     * changes applied to it instead, so nothing stored since is lost or reverted. With {@code owner} set, the
     * update only lands while that relay still holds the lease (else {@link LeaseLostException});
     * {@code releaseLease} hands the job back to the scheduler (its next poll time decides). An update to a state
     * outside {@link JobState#ACTIVE} gives back the slot the job held ({@link NewJob#holdingSlot}), if any.
     */
    public ExportJob update(ExportJob job, String owner, JobUpdate u, boolean releaseLease) {
        // safe to repeat after a lost connection: had the first try landed, updated_at moved, so the repeat reads
        // the stored job and writes the same values to it
        return again(() -> updateOnce(job, owner, u, releaseLease));
    }

    private ExportJob updateOnce(ExportJob job, String owner, JobUpdate u, boolean releaseLease) {
        ExportJob updated = job.updatedAt() == null ? null : updateIfCurrent(job, owner, u, releaseLease);
        if (updated != null) {
            return updated;
        }
        ExportJob stored = find(job.id()).orElseThrow(() -> new StoreException("No job " + job.id(), null));
        if (stored.updatedAt().equals(job.updatedAt())) {
            throw new LeaseLostException(job.id()); // the copy was current: the lease guard refused it
        }
        updated = updateIfCurrent(stored, owner, u, releaseLease);
        if (updated == null) {
            throw new LeaseLostException(job.id()); // another relay holds it, or is changing it right now
        }
        return updated;
    }

    /** The update, if the job is stored as {@code job} says and the lease allows it; else null. */
    private ExportJob updateIfCurrent(ExportJob job, String owner, JobUpdate u, boolean releaseLease) {
        boolean inRows = keepsLeasesInRows();
        if (owner != null && !inRows && !localLeases.allows(job.id(), owner)) {
            return null;
        }
        List<String> sets = new ArrayList<>();
        List<Object> args = new ArrayList<>();
        set(sets, args, "state", u.state == null ? null : u.state.name());
        set(sets, args, "vendor_job_id", u.vendorJobId);
        set(sets, args, "status_url", u.statusUrl);
        set(sets, args, "vendor_status", u.vendorStatus);
        set(sets, args, "progress", u.progress);
        set(sets, args, "next_poll_at", u.nextPollAt);
        set(sets, args, "attempts", u.attempts);
        set(sets, args, "last_error", u.lastError);
        if (u.clearLastError && u.lastError == null) {
            sets.add("last_error = NULL");
        }
        set(sets, args, "request_id", u.requestId);
        set(sets, args, "transaction_time", u.transactionTime);
        set(sets, args, "expires_at", u.expiresAt);
        set(sets, args, "request_url", u.requestUrl);
        set(sets, args, "dedup_key", u.dedupKey);
        if (u.dedupKey == null && u.state != null && u.state.isTerminal()) {
            // an ending job gives back the slot it held (NewJob#holdingSlot): its key becomes its own
            sets.add("dedup_key = CASE WHEN dedup_key LIKE '" + NewJob.SLOT_KEY + "%' THEN ? ELSE dedup_key END");
            args.add("ended:" + job.id());
        }
        Map<String, String> attributes = u.attributesOf(job);
        // written only when changed: every poll's update clears flags that are rarely set, and the row is stored as
        // this copy (updated_at), so equal attributes are the stored ones (bench/jmh.sh, docs/benchmarks.md)
        if (!attributes.equals(job.attributes())) {
            set(sets, args, "attributes", toJson(attributes));
        }
        if (releaseLease && inRows) {
            sets.add("lease_owner = NULL");
            sets.add("lease_until = NULL");
        }
        // strictly later than the copy's, even within one clock tick: updated_at tells a current copy from an old one
        Instant updatedAt = stored(now());
        if (!updatedAt.isAfter(job.updatedAt())) {
            updatedAt = job.updatedAt().plus(1, ChronoUnit.MICROS);
        }
        sets.add("updated_at = ?");
        args.add(updatedAt);
        String sql = "UPDATE export_job SET " + String.join(", ", sets) + " WHERE id = ? AND updated_at = ?";
        args.add(job.id());
        args.add(job.updatedAt());
        if (owner != null && inRows) {
            sql += " AND (lease_owner = ? OR lease_owner IS NULL)";
            args.add(owner);
        }
        if (execute(sql, args.toArray()) != 1) {
            return null;
        }
        if (releaseLease && !inRows) {
            // only once the update has landed: given back before, a claim could take the job on the row it had
            localLeases.giveBack(job.id(), owner, updatedAt);
        }
        return u.applyTo(job, attributes, updatedAt);
    }

    /**
     * The URL the relay's pool opens for {@code storeUrl}. An embedded H2 database is closed by H2's own shutdown
     * hook unless told otherwise, and the JVM runs that hook beside Camel's: the store was gone while the routes were
     * still stopping (a claim logged "Database is already closed", an in-flight step could not record its end). With
     * {@code DB_CLOSE_ON_EXIT=FALSE} it closes with its last connection, when the context's stop closes the pool.
     */
    public static String poolUrl(String storeUrl) {
        boolean optionSet = storeUrl.toUpperCase(Locale.ROOT).contains("DB_CLOSE_ON_EXIT");
        return LocalLeases.embeddedH2(storeUrl) && !optionSet ? storeUrl + ";DB_CLOSE_ON_EXIT=FALSE" : storeUrl;
    }

    /** An instant as the store keeps it (H2 and PostgreSQL: to the microsecond), so a built job equals a read one. */
    static Instant stored(Instant value) {
        return value == null ? null : value.truncatedTo(ChronoUnit.MICROS);
    }

    private static void set(List<String> sets, List<Object> args, String column, Object value) {
        if (value != null) {
            sets.add(column + " = ?");
            args.add(value);
        }
    }

    // ---- files ----------------------------------------------------------------------------------------

    /**
     * Records the files of a manifest. A file already known under the same sequence number keeps its delivery
     * record and only takes the new URL: a refreshed manifest (new presigned links) never re-delivers a file.
     */
    public List<JobFile> planFiles(String jobId, List<JobFile> files) {
        // repeated whole, it finds the files the first attempt committed and only refreshes their URLs
        return again(() -> planFilesOnce(jobId, files));
    }

    private List<JobFile> planFilesOnce(String jobId, List<JobFile> files) {
        Map<Integer, JobFile> known = new LinkedHashMap<>();
        for (JobFile f : files(jobId)) {
            known.put(f.seq(), f);
        }
        try (Connection c = connection()) {
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO job_file (job_id, seq, file_group, "
                    + "type, url, target_key) VALUES (?,?,?,?,?,?)");
                 PreparedStatement refresh = c.prepareStatement("UPDATE job_file SET url = ? WHERE job_id = ? "
                         + "AND seq = ?")) {
                for (JobFile f : files) {
                    if (known.containsKey(f.seq())) {
                        refresh.setString(1, f.url());
                        refresh.setString(2, jobId);
                        refresh.setInt(3, f.seq());
                        refresh.addBatch();
                    } else {
                        insert.setString(1, jobId);
                        insert.setInt(2, f.seq());
                        insert.setString(3, f.group());
                        insert.setString(4, f.type());
                        insert.setString(5, f.url());
                        insert.setString(6, f.targetKey());
                        insert.addBatch();
                    }
                }
                insert.executeBatch();
                refresh.executeBatch();
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw failed("Cannot record the files of job " + jobId, e);
        }
        return files(jobId);
    }

    public List<JobFile> files(String jobId) {
        return again(() -> filesOnce(jobId));
    }

    private List<JobFile> filesOnce(String jobId) {
        List<JobFile> files = new ArrayList<>();
        try (Connection c = connection();
             PreparedStatement ps = c.prepareStatement("SELECT * FROM job_file WHERE job_id = ? ORDER BY seq")) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    files.add(new JobFile(rs.getLong("id"), rs.getString("job_id"), rs.getInt("seq"),
                            rs.getString("file_group"), rs.getString("type"), rs.getString("url"),
                            rs.getString("target_key"), (Long) rs.getObject("bytes", Long.class),
                            rs.getString("sha256"), instant(rs, "delivered_at"), rs.getString("note")));
                }
            }
        } catch (SQLException e) {
            throw failed("Cannot read the files of job " + jobId, e);
        }
        return files;
    }

    public void fileDelivered(long fileId, long bytes, String sha256) {
        fileDelivered(fileId, bytes, sha256, null);
    }

    /** {@code note}: what the delivery noticed about the bytes (for the receipt), or null. */
    public void fileDelivered(long fileId, long bytes, String sha256, String note) {
        // repeated after a lost connection: the bytes are on the target, so the record must land or the file
        // is fetched again
        again(() -> execute("UPDATE job_file SET bytes = ?, sha256 = ?, note = ?, delivered_at = ? WHERE id = ?",
                bytes, sha256, note, now(), fileId));
    }

    public void recordDelivery(String jobId, String targetKind, String receiptKey, int files, long bytes) {
        again(() -> {
            execute("DELETE FROM delivery WHERE job_id = ?", jobId);
            return execute("INSERT INTO delivery (job_id, target_kind, receipt_key, files, bytes, delivered_at) "
                    + "VALUES (?,?,?,?,?,?)", jobId, targetKind, receiptKey, files, bytes, now());
        });
    }

    public Optional<String> receiptKey(String jobId) {
        return again(() -> receiptKeyOnce(jobId));
    }

    private Optional<String> receiptKeyOnce(String jobId) {
        try (Connection c = connection();
             PreparedStatement ps = c.prepareStatement("SELECT receipt_key FROM delivery WHERE job_id = ?")) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw failed("Cannot read the delivery of job " + jobId, e);
        }
    }

    // ---- per-source state -------------------------------------------------------------------------------

    public Optional<Instant> lastTransactionTime(String sourceId) {
        return again(() -> lastTransactionTimeOnce(sourceId));
    }

    private Optional<Instant> lastTransactionTimeOnce(String sourceId) {
        try (Connection c = connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT last_transaction_time FROM source_state WHERE source_id = ?")) {
            ps.setString(1, sourceId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.ofNullable(instant(rs, 1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw failed("Cannot read the state of source " + sourceId, e);
        }
    }

    public void rememberTransactionTime(String sourceId, Instant transactionTime) {
        again(() -> {
            ensureSourceRow(sourceId);
            return execute("UPDATE source_state SET last_transaction_time = ? WHERE source_id = ? AND "
                    + "(last_transaction_time IS NULL OR last_transaction_time < ?)", transactionTime, sourceId,
                    transactionTime);
        });
    }

    /**
     * Takes the scheduled kick-off due at {@code fireTime}: true for exactly one caller across all relays sharing
     * the store, because the conditional update succeeds only while the stored time is older.
     */
    public boolean takeScheduledKickoff(String sourceId, Instant fireTime) {
        ensureSourceRow(sourceId);
        return execute("UPDATE source_state SET last_kickoff_at = ? WHERE source_id = ? AND "
                + "(last_kickoff_at IS NULL OR last_kickoff_at < ?)", fireTime, sourceId, fireTime) == 1;
    }

    private void ensureSourceRow(String sourceId) {
        try {
            execute("INSERT INTO source_state (source_id) SELECT ? WHERE NOT EXISTS "
                    + "(SELECT 1 FROM source_state WHERE source_id = ?)", sourceId, sourceId);
        } catch (StoreException raced) {
            // another relay inserted it first; the row is there either way
        }
    }

    /** True when the store answers: the readiness check. */
    public boolean isReachable() {
        try (Connection c = connection()) {
            return c.isValid(2);
        } catch (SQLException | StoreException e) { // StoreException: the schema could not be migrated
            return false;
        }
    }

    // ---- plumbing ---------------------------------------------------------------------------------------

    /**
     * Runs a step that is safe to repeat. A database restart cuts every pooled connection at once: after the
     * first one found lost, the pool renews all of them, and the step is tried once more on a fresh connection
     * (which the pool waits for up to relay.store.connect-timeout), so a short restart costs a wait, not a failed
     * step. Claims and inserts are not repeated this way (their first attempt may have landed).
     */
    private <T> T again(Supplier<T> step) {
        try {
            return step.get();
        } catch (StoreException e) {
            if (!e.isConnectionLost()) {
                throw e;
            }
            return step.get();
        }
    }

    /** The exception for a failed statement; a lost connection renews the pool's other connections too. */
    private StoreException failed(String message, SQLException e) {
        StoreException failure = new StoreException(message, e);
        if (failure.isConnectionLost() && dataSource instanceof HikariDataSource pool
                && pool.getHikariPoolMXBean() != null) {
            pool.getHikariPoolMXBean().softEvictConnections();
        }
        return failure;
    }

    private List<ExportJob> queryJobs(String sql, Object... args) {
        return again(() -> queryJobsOnce(sql, args));
    }

    private List<ExportJob> queryJobsOnce(String sql, Object... args) {
        List<ExportJob> jobs = new ArrayList<>();
        try (Connection c = connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    jobs.add(readJob(rs));
                }
            }
        } catch (SQLException e) {
            throw failed("Cannot read jobs", e);
        }
        return jobs;
    }

    private int execute(String sql, Object... args) {
        try (Connection c = connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw failed("Job store update failed: " + e.getMessage(), e);
        }
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof Instant instant) {
                setInstant(ps, i + 1, instant);
            } else {
                ps.setObject(i + 1, a);
            }
        }
    }

    private static void setInstant(PreparedStatement ps, int index, Instant value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.TIMESTAMP_WITH_TIMEZONE);
        } else {
            ps.setObject(index, stored(value).atOffset(ZoneOffset.UTC));
        }
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    private ExportJob readJob(ResultSet rs) throws SQLException {
        return new ExportJob(rs.getString("id"), rs.getString("source_id"), rs.getString("kind"),
                rs.getString("vendor_job_id"), rs.getString("status_url"), JobState.valueOf(rs.getString("state")),
                rs.getString("vendor_status"), rs.getString("progress"), instant(rs, "next_poll_at"),
                instant(rs, "deadline_at"), rs.getInt("attempts"), rs.getString("last_error"),
                rs.getString("request_id"), instant(rs, "transaction_time"), instant(rs, "expires_at"),
                rs.getString("request_url"), fromJson(rs.getString("attributes")), instant(rs, "created_at"),
                instant(rs, "updated_at"));
    }

    private String toJson(Map<String, String> attributes) {
        try {
            return json.writeValueAsString(attributes == null ? Map.of() : attributes);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Job attributes are not serialisable", e);
        }
    }

    private Map<String, String> fromJson(String text) {
        try {
            return text == null ? Map.of() : json.readValue(text, ATTRIBUTES);
        } catch (JsonProcessingException e) {
            throw new StoreException("Corrupt job attributes", e);
        }
    }

}
