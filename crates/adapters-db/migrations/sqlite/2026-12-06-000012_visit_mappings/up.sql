-- Who was at a site when: written when a visitor is checked in, kept for the retention period.
-- The visitor is only ciphertext under the field key ring and the visit token only a keyed
-- digest, so a copy of the database links no token to anyone; the site and the visit's time
-- are in clear so that an exposure finds its mappings through the index and decrypts those
-- alone.
CREATE TABLE visit_mappings (
    token_digest   BLOB NOT NULL PRIMARY KEY CHECK (length(token_digest) = 32),
    sealed_visitor TEXT NOT NULL,
    site_id        TEXT NOT NULL REFERENCES sites (id),
    visit_start    TEXT NOT NULL,
    visit_end      TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    CHECK (visit_end >= visit_start)
) STRICT;
CREATE INDEX visit_mappings_site_time ON visit_mappings (site_id, visit_start);
CREATE INDEX visit_mappings_created ON visit_mappings (created_at);
