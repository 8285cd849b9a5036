-- CAPTCHA challenges, shared by every server process (one issued by one process verifies on
-- another). Only a digest of the answer, salted with the challenge id, is kept. A challenge
-- dies when answered right, after its last wrong attempt, with its session, or when purged
-- after it expired.
CREATE TABLE captchas (
    id          TEXT      PRIMARY KEY NOT NULL,
    kind        TEXT      NOT NULL CHECK (kind IN ('proof_of_work', 'arithmetic')),
    answer_hash BYTEA     NOT NULL CHECK (octet_length(answer_hash) = 32),
    session_key BYTEA     REFERENCES sessions (key) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    attempts    INTEGER   NOT NULL DEFAULT 0 CHECK (attempts >= 0)
);
CREATE INDEX captchas_expiry ON captchas (expires_at);
CREATE INDEX captchas_session ON captchas (session_key);
