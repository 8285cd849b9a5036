-- A version of each person's journal, moved on in the same transaction as every change to
-- their entries, sightings or feedback (whatever code path makes it), so that a page of the
-- journal made for one version can be served again until the version moves.
ALTER TABLE journal_usage ADD COLUMN version BIGINT NOT NULL DEFAULT 0 CHECK (version >= 0);

CREATE FUNCTION journal_version_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE journal_usage SET version = version + 1 WHERE user_id = OLD.owner;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.owner IS DISTINCT FROM OLD.owner) THEN
        UPDATE journal_usage SET version = version + 1 WHERE user_id = NEW.owner;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER journal_version_entries AFTER INSERT OR UPDATE OR DELETE ON identifications
    FOR EACH ROW EXECUTE FUNCTION journal_version_moves();
CREATE TRIGGER journal_version_sightings AFTER INSERT OR UPDATE OR DELETE ON sightings
    FOR EACH ROW EXECUTE FUNCTION journal_version_moves();
