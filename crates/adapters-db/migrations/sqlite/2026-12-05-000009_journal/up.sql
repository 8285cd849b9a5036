-- The field journal: each signed-in person's identifications (what was seen), their sightings
-- (where and when, and who may see where), their photos, and what the person said about the
-- answer. Everything goes with its owner (ON DELETE CASCADE).
--
-- The answer itself is one JSON document (`details`: the result, the photo's size, the
-- upload's digest); what is filtered has its own column.
CREATE TABLE identifications (
    id               TEXT    PRIMARY KEY NOT NULL,
    owner            TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at       TEXT    NOT NULL,
    provider         TEXT    NOT NULL,
    stored_bytes     INTEGER NOT NULL CHECK (stored_bytes > 0),
    details          TEXT    NOT NULL,
    animal_type_key  TEXT,
    feedback_correct INTEGER CHECK (feedback_correct IN (0, 1)),
    feedback         TEXT,
    CHECK ((feedback_correct IS NULL) = (feedback IS NULL))
) STRICT;
CREATE INDEX identifications_journal ON identifications (owner, created_at DESC, id DESC);

-- One per identification. Positions are whole microdegrees; the obscured point (shown_lat,
-- shown_lon) is chosen once, when the entry is kept. The names and the conservation rank
-- (0 unknown, 1 LC ... 7 EX) are copied from the answer so that the public map reads this
-- table alone.
CREATE TABLE sightings (
    identification_id TEXT     PRIMARY KEY NOT NULL
                      REFERENCES identifications (id) ON DELETE CASCADE,
    owner             TEXT     NOT NULL,
    created_at        TEXT     NOT NULL,
    lat               INTEGER  CHECK (lat BETWEEN -90000000 AND 90000000),
    lon               INTEGER  CHECK (lon BETWEEN -180000000 AND 180000000),
    shown_lat         INTEGER  CHECK (shown_lat BETWEEN -90000000 AND 90000000),
    shown_lon         INTEGER  CHECK (shown_lon BETWEEN -180000000 AND 180000000),
    observed_at       TEXT,
    notes             TEXT,
    visibility        TEXT     NOT NULL CHECK (visibility IN ('open', 'obscured', 'private')),
    conservation_rank INTEGER  NOT NULL CHECK (conservation_rank BETWEEN 0 AND 7),
    common_name       TEXT     NOT NULL,
    species           TEXT     NOT NULL,
    CHECK ((lat IS NULL) = (lon IS NULL)),
    CHECK ((lat IS NULL) = (shown_lat IS NULL) AND (lat IS NULL) = (shown_lon IS NULL))
) STRICT;
-- The public map reads shared sightings newest first and stops at its limit; a person's own
-- map reads theirs.
CREATE INDEX sightings_shared ON sightings (created_at DESC)
    WHERE visibility <> 'private' AND lat IS NOT NULL;
CREATE INDEX sightings_owner ON sightings (owner, created_at DESC) WHERE lat IS NOT NULL;

-- The pictures, apart from the rows that list them (a listing never reads a photo).
CREATE TABLE identification_photos (
    identification_id TEXT PRIMARY KEY NOT NULL
                      REFERENCES identifications (id) ON DELETE CASCADE,
    media_type        TEXT NOT NULL,
    photo             BLOB NOT NULL CHECK (length(photo) > 0),
    thumbnail         BLOB NOT NULL
) STRICT;

-- Bytes each person's photos take, counted as entries come and go, so that the allowance is
-- checked and taken in one conditional update.
CREATE TABLE journal_usage (
    user_id TEXT    PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    bytes   INTEGER NOT NULL CHECK (bytes >= 0)
) STRICT;
