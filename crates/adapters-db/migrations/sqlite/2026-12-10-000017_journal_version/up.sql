-- A version of each person's journal, moved on in the same transaction as every change to
-- their entries, sightings or feedback (whatever code path makes it), so that a page of the
-- journal made for one version can be served again until the version moves.
ALTER TABLE journal_usage ADD COLUMN version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0);

CREATE TRIGGER journal_version_entry_added AFTER INSERT ON identifications BEGIN
    UPDATE journal_usage SET version = version + 1 WHERE user_id = NEW.owner;
END;
CREATE TRIGGER journal_version_entry_changed AFTER UPDATE ON identifications BEGIN
    UPDATE journal_usage SET version = version + 1 WHERE user_id IN (OLD.owner, NEW.owner);
END;
CREATE TRIGGER journal_version_entry_removed AFTER DELETE ON identifications BEGIN
    UPDATE journal_usage SET version = version + 1 WHERE user_id = OLD.owner;
END;
CREATE TRIGGER journal_version_sighting_added AFTER INSERT ON sightings BEGIN
    UPDATE journal_usage SET version = version + 1 WHERE user_id = NEW.owner;
END;
CREATE TRIGGER journal_version_sighting_changed AFTER UPDATE ON sightings BEGIN
    UPDATE journal_usage SET version = version + 1 WHERE user_id IN (OLD.owner, NEW.owner);
END;
CREATE TRIGGER journal_version_sighting_removed AFTER DELETE ON sightings BEGIN
    UPDATE journal_usage SET version = version + 1 WHERE user_id = OLD.owner;
END;
