-- PostgreSQL only (db/postgresql, chosen by StoreSchema). Read off a 10,000-job poll benchmark (docs/benchmarks.md,
-- stop 31): the claim never read export_job_due, and through export_job_state_due it fetched every due active job
-- (about 1,200 rows per claim) to sort them for the 30 or so it took. Over this partial index it reads the active
-- jobs in due order and stops at its LIMIT. And as each poll moves next_poll_at, PostgreSQL writes a new entry into
-- every index of the row: three now, not four. The predicate is JobStore's ACTIVE_STATES, word for word, so that
-- the planner can match the claim's WHERE to it (StoreSchemaTest holds the two together).
CREATE INDEX export_job_active_due ON export_job (next_poll_at)
    WHERE state IN ('SUBMITTED','RUNNING','READY','DELIVERING');
DROP INDEX export_job_due;
DROP INDEX export_job_state_due;
