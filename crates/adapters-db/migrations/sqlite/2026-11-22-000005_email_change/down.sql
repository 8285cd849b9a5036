CREATE TABLE login_tokens_old (
    hash            BLOB PRIMARY KEY NOT NULL CHECK (length(hash) = 32),
    purpose         TEXT NOT NULL CHECK (purpose IN ('magic_link', 'email_verification')),
    email_lookup    BLOB NOT NULL CHECK (length(email_lookup) = 32),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT,
    email_encrypted TEXT
) STRICT;
INSERT INTO login_tokens_old
    SELECT hash, purpose, email_lookup, created_at, expires_at, used_at, email_encrypted
    FROM login_tokens WHERE purpose <> 'email_change';
DROP TABLE login_tokens;
ALTER TABLE login_tokens_old RENAME TO login_tokens;
CREATE INDEX login_tokens_expiry ON login_tokens (expires_at);
