-- What the delivery noticed about a file's bytes (NDJSON lines over relay.download.max-line-bytes), for the receipt.
ALTER TABLE job_file ADD COLUMN note VARCHAR(1000);
