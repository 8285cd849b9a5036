DROP TRIGGER journal_version_sightings ON sightings;
DROP TRIGGER journal_version_entries ON identifications;
DROP FUNCTION journal_version_moves();
ALTER TABLE journal_usage DROP COLUMN version;
