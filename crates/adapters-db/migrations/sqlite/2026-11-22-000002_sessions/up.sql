-- Server-side sessions. The key is the SHA-256 of the cookie token: the file alone yields no
-- usable cookie. Signed-in sessions die with their user.
CREATE TABLE sessions (
    key               BLOB    PRIMARY KEY NOT NULL CHECK (length(key) = 32),
    user_id           TEXT    REFERENCES users (id) ON DELETE CASCADE,
    fingerprint       BLOB    NOT NULL CHECK (length(fingerprint) = 16),
    csrf              BLOB    NOT NULL CHECK (length(csrf) = 32),
    created_at        TEXT    NOT NULL,
    last_seen_at      TEXT    NOT NULL,
    authenticated_at  TEXT,
    request_count     INTEGER NOT NULL DEFAULT 0 CHECK (request_count >= 0),
    window_started_at TEXT,
    rate_limited      INTEGER NOT NULL DEFAULT 0 CHECK (rate_limited IN (0, 1)),
    is_trusted        INTEGER NOT NULL DEFAULT 0 CHECK (is_trusted IN (0, 1)),
    captcha_passed_at TEXT,
    coarse_ip         TEXT,
    device            TEXT
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- Fixed-window counters of the rate limits, shared by every server process. Keys are keyed
-- digests (no raw IP address or email address is stored).
CREATE TABLE rate_limits (
    key               BLOB    PRIMARY KEY NOT NULL,
    count             INTEGER NOT NULL CHECK (count >= 0),
    window_started_at TEXT    NOT NULL
) STRICT;
CREATE INDEX rate_limits_window ON rate_limits (window_started_at);
