-- Field visits: wildlife sites, the kinds of visit offered there, visitors' bookings, and the
-- places each slot (site, service, start) has left.
--
-- Names are unique without regard to case (`name_key` is the lower-case name). Areas are
-- whole microdegrees, as sightings are.
CREATE TABLE sites (
    id          TEXT    PRIMARY KEY NOT NULL,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL UNIQUE,
    description TEXT,
    south       INTEGER NOT NULL CHECK (south BETWEEN -90000000 AND 90000000),
    west        INTEGER NOT NULL CHECK (west BETWEEN -180000000 AND 180000000),
    north       INTEGER NOT NULL CHECK (north BETWEEN -90000000 AND 90000000),
    east        INTEGER NOT NULL CHECK (east BETWEEN -180000000 AND 180000000),
    active      INTEGER NOT NULL CHECK (active IN (0, 1)),
    CHECK (south <= north AND west <= east)
) STRICT;

CREATE TABLE service_types (
    id               TEXT    PRIMARY KEY NOT NULL,
    name             TEXT    NOT NULL,
    name_key         TEXT    NOT NULL UNIQUE,
    duration_minutes INTEGER NOT NULL
                     CHECK (duration_minutes BETWEEN 15 AND 720 AND duration_minutes % 15 = 0),
    capacity         INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 500)
) STRICT;

-- A booking goes with its visitor's account. `worker_id` has no foreign key: a deleted
-- worker's bookings keep the id until an admin reassigns them.
CREATE TABLE bookings (
    id              TEXT    PRIMARY KEY NOT NULL,
    visitor_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    site_id         TEXT    NOT NULL REFERENCES sites (id),
    service_type_id TEXT    NOT NULL REFERENCES service_types (id),
    starts_at       TEXT    NOT NULL,
    minutes         INTEGER NOT NULL CHECK (minutes BETWEEN 15 AND 720),
    description     TEXT,
    status          TEXT    NOT NULL
                    CHECK (status IN ('requested', 'claimed', 'checked_in', 'completed', 'cancelled')),
    worker_id       TEXT,
    created_at      TEXT    NOT NULL,
    checked_in_at   TEXT,
    completed_at    TEXT,
    cancelled_at    TEXT,
    CHECK ((worker_id IS NULL) = (status = 'requested') OR status = 'cancelled'),
    CHECK ((checked_in_at IS NULL) = (status NOT IN ('checked_in', 'completed'))),
    CHECK ((completed_at IS NULL) = (status <> 'completed')),
    CHECK ((cancelled_at IS NULL) = (status <> 'cancelled'))
) STRICT;
-- One place per visitor per slot (a cancelled booking gives it back).
CREATE UNIQUE INDEX bookings_one_place
    ON bookings (visitor_id, site_id, service_type_id, starts_at) WHERE status <> 'cancelled';
CREATE INDEX bookings_visitor ON bookings (visitor_id, starts_at DESC);
CREATE INDEX bookings_open ON bookings (starts_at) WHERE status = 'requested';
CREATE INDEX bookings_worker ON bookings (worker_id, starts_at)
    WHERE status IN ('claimed', 'checked_in');

-- Places taken in each slot, counted as bookings come and go, so that a place is checked and
-- taken with one conditional update.
CREATE TABLE visit_slots (
    site_id         TEXT    NOT NULL REFERENCES sites (id),
    service_type_id TEXT    NOT NULL REFERENCES service_types (id),
    starts_at       TEXT    NOT NULL,
    taken           INTEGER NOT NULL CHECK (taken >= 0),
    PRIMARY KEY (site_id, service_type_id, starts_at)
) STRICT;

-- A booking that disappears with its visitor's account gives its place back.
CREATE TRIGGER bookings_give_back_place AFTER DELETE ON bookings
WHEN OLD.status <> 'cancelled'
BEGIN
    UPDATE visit_slots SET taken = taken - 1
    WHERE site_id = OLD.site_id AND service_type_id = OLD.service_type_id
      AND starts_at = OLD.starts_at;
END;
