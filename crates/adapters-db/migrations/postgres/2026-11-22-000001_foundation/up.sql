-- Accounts. The address is stored only encrypted (email_encrypted, a Fernet token) and looked
-- up by a keyed HMAC (email_lookup), so a dump alone reveals no address.
CREATE TABLE users (
    id                  TEXT      PRIMARY KEY NOT NULL,
    email_lookup        BYTEA     NOT NULL UNIQUE CHECK (octet_length(email_lookup) = 32),
    email_encrypted     TEXT      NOT NULL,
    role                TEXT      NOT NULL CHECK (role IN ('visitor', 'worker', 'admin')),
    active              BOOLEAN   NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    email_verified_at   TIMESTAMP,
    privacy_accepted_at TIMESTAMP,
    password_hash       TEXT,
    totp_secret         TEXT,
    totp_last_step      BIGINT,
    failed_attempts     INTEGER   NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until        TIMESTAMP,
    last_login_at       TIMESTAMP
);

-- The hash-chained audit log. Append-only: the trigger below refuses UPDATE, DELETE and
-- TRUNCATE for every role that does not own the table's trigger (even the owner must first
-- disable it, which itself needs table ownership).
CREATE TABLE audit_log (
    seq        BIGINT    PRIMARY KEY NOT NULL CHECK (seq >= 1),
    at         TIMESTAMP NOT NULL,
    actor      TEXT      NOT NULL,
    action     TEXT      NOT NULL,
    target     TEXT,
    details    TEXT      NOT NULL,
    request_id TEXT,
    prev_hash  BYTEA     NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash       BYTEA     NOT NULL UNIQUE CHECK (octet_length(hash) = 32)
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- One row that every append updates first, which serialises appenders on every backend.
CREATE TABLE audit_chain_lock (
    id      INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    appends BIGINT  NOT NULL
);
INSERT INTO audit_chain_lock (id, appends) VALUES (1, 0);
