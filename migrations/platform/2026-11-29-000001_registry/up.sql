-- Platform schema: the registry of city environments. Every table here is
-- schema-qualified; city schemas never see it.

CREATE SCHEMA IF NOT EXISTS ext;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA ext;
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA ext;

-- unaccent() is only STABLE (its dictionary could change); indexes need IMMUTABLE.
CREATE FUNCTION ext.f_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT ext.unaccent('ext.unaccent'::regdictionary, $1) $$;

CREATE TABLE platform.audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_id    text NOT NULL,
    table_name text NOT NULL,
    row_id     text,
    op         text NOT NULL CHECK (op IN ('INSERT', 'UPDATE', 'DELETE')),
    before     jsonb,
    after      jsonb
);
CREATE INDEX audit_log_record ON platform.audit_log (table_name, row_id, at);

CREATE FUNCTION platform.audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    actor text := nullif(current_setting('marelle.user_id', true), '');
    old_row jsonb;
    new_row jsonb;
BEGIN
    IF actor IS NULL THEN
        RAISE EXCEPTION 'modification sans auteur sur %.%', TG_TABLE_SCHEMA, TG_TABLE_NAME;
    END IF;
    IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
    IF TG_OP = 'UPDATE' AND old_row = new_row THEN RETURN NULL; END IF;
    INSERT INTO platform.audit_log (user_id, table_name, row_id, op, before, after)
    VALUES (actor, TG_TABLE_NAME, coalesce(new_row->>'id', new_row->>'host', old_row->>'id', old_row->>'host'),
            TG_OP, old_row, new_row);
    RETURN NULL;
END $$;

CREATE TABLE platform.cities (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug          text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9_-]{0,40}$'),
    name          text NOT NULL CHECK (length(btrim(name)) > 0),
    env           text NOT NULL CHECK (env IN ('production', 'recette')),
    schema_name   text NOT NULL UNIQUE CHECK (schema_name ~ '^[a-z][a-z0-9_]{0,62}$'),
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    theme         jsonb NOT NULL DEFAULT '{}',
    -- For a recette environment: the production environment it mirrors.
    production_id bigint REFERENCES platform.cities (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE platform.city_hosts (
    host    text PRIMARY KEY CHECK (host ~ '^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$'),
    city_id bigint NOT NULL REFERENCES platform.cities (id) ON DELETE CASCADE
);
CREATE INDEX city_hosts_city ON platform.city_hosts (city_id);

CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON platform.cities
    FOR EACH ROW EXECUTE FUNCTION platform.audit_row();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON platform.city_hosts
    FOR EACH ROW EXECUTE FUNCTION platform.audit_row();

-- Every running server drops its host cache when the registry changes, whoever changed it.
CREATE FUNCTION platform.notify_registry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('marelle_registry', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER notify AFTER INSERT OR UPDATE OR DELETE ON platform.cities
    FOR EACH STATEMENT EXECUTE FUNCTION platform.notify_registry();
CREATE TRIGGER notify AFTER INSERT OR UPDATE OR DELETE ON platform.city_hosts
    FOR EACH STATEMENT EXECUTE FUNCTION platform.notify_registry();

-- Sessions of the SITIV console (bootstrap password until identities exist).
CREATE TABLE platform.admin_sessions (
    token_hash   bytea PRIMARY KEY,
    admin        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
