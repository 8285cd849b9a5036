-- Background jobs that several server processes share (the retention purge, re-encryption
-- under a new key): the process holding a job's lease runs it, until `leased_until`; a
-- crashed holder's lease runs out and another process takes the job over. `finished_at` is
-- when the job last ran to its end, so a daily job is due again a day later.
CREATE TABLE job_leases (
    job          TEXT PRIMARY KEY NOT NULL,
    holder       TEXT,
    leased_until TEXT,
    finished_at  TEXT
) STRICT;

-- How far the re-encryption of each sealed column has come under the newest key (`key_id`, a
-- digest naming the key, never the key): the walk goes in row-key order and resumes after
-- `cursor` when it was interrupted.
CREATE TABLE reencryption_progress (
    column_name TEXT PRIMARY KEY NOT NULL,
    key_id      TEXT NOT NULL,
    cursor      TEXT,
    examined    INTEGER NOT NULL CHECK (examined >= 0),
    rewritten   INTEGER NOT NULL CHECK (rewritten >= 0),
    unreadable  INTEGER NOT NULL CHECK (unreadable >= 0),
    finished_at TEXT
) STRICT;
