-- Address-change links: purpose 'email_change', tied to the account that asked for it and
-- carrying the new address (encrypted). SQLite cannot alter a CHECK constraint, so the table
-- is rebuilt; nothing references it.
CREATE TABLE login_tokens_new (
    hash            BLOB PRIMARY KEY NOT NULL CHECK (length(hash) = 32),
    purpose         TEXT NOT NULL
                    CHECK (purpose IN ('magic_link', 'email_verification', 'email_change')),
    email_lookup    BLOB NOT NULL CHECK (length(email_lookup) = 32),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT,
    email_encrypted TEXT,
    user_id         TEXT REFERENCES users (id) ON DELETE CASCADE,
    CHECK ((purpose = 'email_change' AND user_id IS NOT NULL AND email_encrypted IS NOT NULL)
        OR (purpose <> 'email_change' AND user_id IS NULL))
) STRICT;
INSERT INTO login_tokens_new
    (hash, purpose, email_lookup, created_at, expires_at, used_at, email_encrypted)
    SELECT hash, purpose, email_lookup, created_at, expires_at, used_at, email_encrypted
    FROM login_tokens;
DROP TABLE login_tokens;
ALTER TABLE login_tokens_new RENAME TO login_tokens;
CREATE INDEX login_tokens_expiry ON login_tokens (expires_at);
CREATE INDEX login_tokens_user ON login_tokens (user_id) WHERE user_id IS NOT NULL;
