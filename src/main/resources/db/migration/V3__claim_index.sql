-- The claim query's path: per active state, the due jobs in next_poll_at order, read from the index and stopped at
-- the batch size. With (state) alone H2 read every active job and sorted them all on every claim (10,000 in-flight
-- jobs: most of the relay's CPU). The single-column state index is a prefix of this one.
CREATE INDEX export_job_state_due ON export_job (state, next_poll_at);
DROP INDEX export_job_state;
