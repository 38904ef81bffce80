-- Activity definitions are read by every booking (issue 5: the registration storm). A
-- server keeps them in memory, keyed by a revision that changes with any part of the
-- definition: the activity, its units, groups and capacities, its structure's capacity.
-- A booking then reads one small row instead of four tables (src/domain/activity/model.rs).
-- The revision is a technical key, not business data: not audited.
CREATE TABLE activity_revisions (
    activity_id bigint PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
    -- Microseconds since the epoch at the last change: never reused, even by a copy of the
    -- city that later diverges from its source.
    revision    bigint NOT NULL
);

CREATE FUNCTION activity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_data jsonb := to_jsonb(coalesce(NEW, OLD));
    now_us bigint := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
BEGIN
    -- A copy brings the revisions along.
    IF current_setting('marelle.copying', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_TABLE_NAME = 'structures' THEN
        INSERT INTO activity_revisions (activity_id, revision)
        SELECT a.id, now_us FROM activities a WHERE a.structure_id = (row_data->>'id')::bigint
        ON CONFLICT (activity_id) DO UPDATE SET revision = EXCLUDED.revision;
    ELSIF TG_TABLE_NAME = 'activities' THEN
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO activity_revisions (activity_id, revision) VALUES ((row_data->>'id')::bigint, now_us)
            ON CONFLICT (activity_id) DO UPDATE SET revision = EXCLUDED.revision;
        END IF;
    ELSE
        INSERT INTO activity_revisions (activity_id, revision)
        SELECT a.id, now_us FROM activities a WHERE a.id = (row_data->>'activity_id')::bigint
        ON CONFLICT (activity_id) DO UPDATE SET revision = EXCLUDED.revision;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER revision AFTER INSERT OR UPDATE ON activities
    FOR EACH ROW EXECUTE FUNCTION activity_changed();
CREATE TRIGGER revision AFTER UPDATE ON structures
    FOR EACH ROW EXECUTE FUNCTION activity_changed();
CREATE TRIGGER revision AFTER INSERT OR UPDATE OR DELETE ON activity_units
    FOR EACH ROW EXECUTE FUNCTION activity_changed();
CREATE TRIGGER revision AFTER INSERT OR UPDATE OR DELETE ON activity_groups
    FOR EACH ROW EXECUTE FUNCTION activity_changed();
CREATE TRIGGER revision AFTER INSERT OR UPDATE OR DELETE ON capacities
    FOR EACH ROW EXECUTE FUNCTION activity_changed();

INSERT INTO activity_revisions (activity_id, revision)
SELECT id, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint FROM activities;
