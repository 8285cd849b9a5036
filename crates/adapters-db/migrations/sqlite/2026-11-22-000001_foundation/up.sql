-- Accounts. The address is stored only encrypted (email_encrypted, a Fernet token) and looked
-- up by a keyed HMAC (email_lookup), so the file alone reveals no address.
CREATE TABLE users (
    id                  TEXT    PRIMARY KEY NOT NULL,
    email_lookup        BLOB    NOT NULL UNIQUE CHECK (length(email_lookup) = 32),
    email_encrypted     TEXT    NOT NULL,
    role                TEXT    NOT NULL CHECK (role IN ('visitor', 'worker', 'admin')),
    active              INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at          TEXT    NOT NULL,
    email_verified_at   TEXT,
    privacy_accepted_at TEXT,
    password_hash       TEXT,
    totp_secret         TEXT,
    totp_last_step      INTEGER,
    failed_attempts     INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until        TEXT,
    last_login_at       TEXT
) STRICT;

-- The hash-chained audit log. Append-only: the triggers below refuse UPDATE and DELETE.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),
    at         TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT,
    details    TEXT    NOT NULL,
    request_id TEXT,
    prev_hash  BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash       BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32)
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- One row that every append updates first, which serialises appenders on every backend.
CREATE TABLE audit_chain_lock (
    id      INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    appends INTEGER NOT NULL
) STRICT;
INSERT INTO audit_chain_lock (id, appends) VALUES (1, 0);
