-- A checked photo kept for a few minutes while its session passes the human check, so the
-- person gets the answer without choosing the photo again. One per session; it dies with its
-- session, when taken, or when purged after it expired. Only the re-encoded photo is kept.
CREATE TABLE held_photos (
    session_key   BLOB    PRIMARY KEY NOT NULL REFERENCES sessions (key) ON DELETE CASCADE,
    source_format TEXT    NOT NULL,
    format        TEXT    NOT NULL,
    bytes         BLOB    NOT NULL CHECK (length(bytes) > 0),
    width         INTEGER NOT NULL CHECK (width > 0),
    height        INTEGER NOT NULL CHECK (height > 0),
    thumbnail     BLOB    NOT NULL,
    upload_sha256 BLOB    NOT NULL CHECK (length(upload_sha256) = 32),
    expires_at    TEXT    NOT NULL
) STRICT;
CREATE INDEX held_photos_expiry ON held_photos (expires_at);
