-- Sign-in links carry the address they were sent to, encrypted, so that their first use can
-- create the account (passwordless sign-up).
ALTER TABLE login_tokens ADD COLUMN email_encrypted TEXT;

-- One-time recovery codes of the second factor: salted SHA-256 only.
CREATE TABLE recovery_codes (
    user_id TEXT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idx     INTEGER   NOT NULL CHECK (idx >= 0),
    salt    BYTEA     NOT NULL CHECK (octet_length(salt) = 16),
    digest  BYTEA     NOT NULL CHECK (octet_length(digest) = 32),
    used_at TIMESTAMP,
    PRIMARY KEY (user_id, idx)
);
