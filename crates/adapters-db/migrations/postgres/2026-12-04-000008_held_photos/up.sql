-- A checked photo kept for a few minutes while its session passes the human check, so the
-- person gets the answer without choosing the photo again. One per session; it dies with its
-- session, when taken, or when purged after it expired. Only the re-encoded photo is kept.
CREATE TABLE held_photos (
    session_key   BYTEA     PRIMARY KEY NOT NULL REFERENCES sessions (key) ON DELETE CASCADE,
    source_format TEXT      NOT NULL,
    format        TEXT      NOT NULL,
    bytes         BYTEA     NOT NULL CHECK (octet_length(bytes) > 0),
    width         INTEGER   NOT NULL CHECK (width > 0),
    height        INTEGER   NOT NULL CHECK (height > 0),
    thumbnail     BYTEA     NOT NULL,
    upload_sha256 BYTEA     NOT NULL CHECK (octet_length(upload_sha256) = 32),
    expires_at    TIMESTAMP NOT NULL
);
CREATE INDEX held_photos_expiry ON held_photos (expires_at);
