package org.healthexport.relay.job;

import java.time.Instant;
import java.util.Collection;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The leases on an embedded H2 store's jobs, kept in this process instead of in the job rows. Only one process
 * can open an embedded H2 database (H2 locks its file), so no other relay ever needs to see them, and writing
 * them cost a quarter of a poll: H2 carries out an {@code UPDATE} as a delete and an insert in every index of
 * the row, and visits each again at commit (docs/benchmarks.md, stop 19). Same rules as the leases in the rows:
 * a lease is taken when there is none or it has lapsed, renewed and released by its owner only, and an update
 * of a job is refused while another owner holds it.
 * <p>
 * One more rule stands in for what a lease in the row gave for free. A claim reads the due jobs, then takes
 * their leases; in between, a worker may store its step's result (the next poll time) and give the lease back.
 * With the lease in the row the claim's read never showed that job unleased and due at once; here a job given
 * back after a step is remembered with the row it then had, and a claim holding an older copy is refused it.
 */
final class LocalLeases {
    private record Lease(String owner, Instant until) { }

    /** A job given back after a step: its row as of {@code updatedAt}; remembered while its lease would have run. */
    private record GivenBack(Instant updatedAt, Instant until) { }

    private final ConcurrentHashMap<String, Lease> held = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, GivenBack> givenBack = new ConcurrentHashMap<>();
    private volatile Instant nextSweep = Instant.MIN;

    /**
     * True when only this process can open the database at {@code jdbcUrl}: an embedded H2 database (a file or
     * memory) opened without {@code AUTO_SERVER}. A H2 server ({@code tcp:}, {@code ssl:}) or an automatic
     * server may be shared by several relays, which must see each other's leases in the rows.
     */
    static boolean sufficeFor(String jdbcUrl) {
        return embeddedH2(jdbcUrl) && !jdbcUrl.toLowerCase(Locale.ROOT).replace(" ", "").contains("auto_server=true");
    }

    /** True for a H2 database that this process opens itself (a file or memory), not through a H2 server. */
    static boolean embeddedH2(String jdbcUrl) {
        String url = jdbcUrl.toLowerCase(Locale.ROOT);
        return url.startsWith("jdbc:h2:") && !url.startsWith("jdbc:h2:tcp:") && !url.startsWith("jdbc:h2:ssl:");
    }

    /**
     * Takes the lease on {@code job}, as the claim read it, for {@code owner} until {@code until}: not while
     * another lease on it runs past now, nor when the job was given back after a step its copy does not have.
     */
    boolean take(ExportJob job, String owner, Instant now, Instant until) {
        Lease mine = new Lease(owner, until);
        return held.compute(job.id(), (id, lease) -> {
            if (lease != null && !lease.until.isBefore(now)) {
                return lease;
            }
            GivenBack back = givenBack.get(id);
            if (back != null && job.updatedAt().isBefore(back.updatedAt)) {
                return lease; // read before the step's update landed: the job may not be due any more
            }
            givenBack.remove(id);
            return mine;
        }) == mine;
    }

    /** Moves the lease's end to {@code until}; false when {@code owner} does not hold it (any more). */
    boolean renew(String jobId, String owner, Instant until) {
        Lease renewed = new Lease(owner, until);
        return held.computeIfPresent(jobId, (id, lease) -> lease.owner.equals(owner) ? renewed : lease) == renewed;
    }

    /** True unless a relay other than {@code owner} holds the job's lease (lapsed or not, as in the rows). */
    boolean allows(String jobId, String owner) {
        Lease lease = held.get(jobId);
        return lease == null || lease.owner.equals(owner);
    }

    /**
     * Gives the lease back after a step's update landed, which left the row at {@code updatedAt}; a null
     * {@code owner} (an update made outside a step) ends it whoever holds it.
     */
    void giveBack(String jobId, String owner, Instant updatedAt) {
        held.computeIfPresent(jobId, (id, lease) -> {
            if (owner != null && !lease.owner.equals(owner)) {
                return lease;
            }
            givenBack.put(id, new GivenBack(updatedAt, lease.until));
            return null;
        });
    }

    /** Releases every lease {@code owner} holds except those on {@code working}; answers how many. */
    int releaseAllExcept(String owner, Collection<String> working) {
        Set<String> keep = Set.copyOf(working);
        int[] released = {0};
        held.forEach((id, lease) -> {
            if (lease.owner.equals(owner) && !keep.contains(id) && held.remove(id, lease)) {
                released[0]++;
            }
        });
        return released[0];
    }

    /** Leases held now, lapsed or not: as many more due jobs as a claim reads, since they are due until updated. */
    int held() {
        return held.size();
    }

    /**
     * Forgets, now and then, the jobs given back whose lease would have lapsed by {@code now}: no claim still
     * reading holds a copy that old. A job claimed again is forgotten at once.
     */
    void forgetLapsed(Instant now) {
        if (now.isAfter(nextSweep)) {
            nextSweep = now.plusSeconds(10);
            givenBack.values().removeIf(back -> back.until.isBefore(now));
        }
    }

    /** Jobs given back and still remembered (for tests). */
    int remembered() {
        return givenBack.size();
    }
}
