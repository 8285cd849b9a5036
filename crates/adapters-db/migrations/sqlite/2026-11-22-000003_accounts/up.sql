-- Single-use sign-in and verification tokens: only their SHA-256 is stored.
CREATE TABLE login_tokens (
    hash         BLOB PRIMARY KEY NOT NULL CHECK (length(hash) = 32),
    purpose      TEXT NOT NULL CHECK (purpose IN ('magic_link', 'email_verification')),
    email_lookup BLOB NOT NULL CHECK (length(email_lookup) = 32),
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT
) STRICT;
CREATE INDEX login_tokens_expiry ON login_tokens (expires_at);

-- The durable mail outbox. Payloads are encrypted with the key ring (they hold addresses and
-- sign-in links).
CREATE TABLE mail_outbox (
    id              TEXT    PRIMARY KEY NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT    NOT NULL,
    sent_at         TEXT,
    last_error      TEXT
) STRICT;
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;
