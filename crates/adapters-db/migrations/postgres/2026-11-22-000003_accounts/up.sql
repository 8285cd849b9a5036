-- Single-use sign-in and verification tokens: only their SHA-256 is stored.
CREATE TABLE login_tokens (
    hash         BYTEA     PRIMARY KEY NOT NULL CHECK (octet_length(hash) = 32),
    purpose      TEXT      NOT NULL CHECK (purpose IN ('magic_link', 'email_verification')),
    email_lookup BYTEA     NOT NULL CHECK (octet_length(email_lookup) = 32),
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    used_at      TIMESTAMP
);
CREATE INDEX login_tokens_expiry ON login_tokens (expires_at);

-- The durable mail outbox. Payloads are encrypted with the key ring (they hold addresses and
-- sign-in links).
CREATE TABLE mail_outbox (
    id              TEXT      PRIMARY KEY NOT NULL,
    payload         TEXT      NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    attempts        INTEGER   NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    last_error      TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;
