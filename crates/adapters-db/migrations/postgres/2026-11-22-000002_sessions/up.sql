-- Server-side sessions. The key is the SHA-256 of the cookie token: a dump alone yields no
-- usable cookie. Signed-in sessions die with their user.
CREATE TABLE sessions (
    key               BYTEA     PRIMARY KEY NOT NULL CHECK (octet_length(key) = 32),
    user_id           TEXT      REFERENCES users (id) ON DELETE CASCADE,
    fingerprint       BYTEA     NOT NULL CHECK (octet_length(fingerprint) = 16),
    csrf              BYTEA     NOT NULL CHECK (octet_length(csrf) = 32),
    created_at        TIMESTAMP NOT NULL,
    last_seen_at      TIMESTAMP NOT NULL,
    authenticated_at  TIMESTAMP,
    request_count     INTEGER   NOT NULL DEFAULT 0 CHECK (request_count >= 0),
    window_started_at TIMESTAMP,
    rate_limited      BOOLEAN   NOT NULL DEFAULT FALSE,
    is_trusted        BOOLEAN   NOT NULL DEFAULT FALSE,
    captcha_passed_at TIMESTAMP,
    coarse_ip         TEXT,
    device            TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- Fixed-window counters of the rate limits, shared by every server process. Keys are keyed
-- digests (no raw IP address or email address is stored).
CREATE TABLE rate_limits (
    key               BYTEA     PRIMARY KEY NOT NULL,
    count             INTEGER   NOT NULL CHECK (count >= 0),
    window_started_at TIMESTAMP NOT NULL
);
CREATE INDEX rate_limits_window ON rate_limits (window_started_at);
