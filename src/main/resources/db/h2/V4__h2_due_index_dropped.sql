-- H2 only (db/h2, chosen by StoreSchema): its claim reads export_job_state_due, one ordered range per active
-- state, so the single-column export_job_due was never read here, yet every poll moved the job in it (next_poll_at
-- changes at each answer). Without it a poll costs about a tenth less CPU (docs/benchmarks.md, stop 17).
-- PostgreSQL keeps it: its claim (state IN (...) ORDER BY next_poll_at, SKIP LOCKED) walks that index in order.
DROP INDEX export_job_due;
