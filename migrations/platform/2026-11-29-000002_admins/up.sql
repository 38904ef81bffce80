-- SITIV administrators (platform level; they see no city personal data) and their
-- break-glass grants to a city, each with a reason and an expiry.

CREATE TABLE platform.admins (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login         text NOT NULL UNIQUE CHECK (login = lower(login)),
    display_name  text NOT NULL,
    password_hash text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON platform.admins
    FOR EACH ROW EXECUTE FUNCTION platform.audit_row();

CREATE TABLE platform.break_glass (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    admin      text NOT NULL,
    city_id    bigint NOT NULL REFERENCES platform.cities (id) ON DELETE CASCADE,
    reason     text NOT NULL CHECK (length(btrim(reason)) >= 10),
    granted_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON platform.break_glass
    FOR EACH ROW EXECUTE FUNCTION platform.audit_row();

-- Failed console sign-ins (same throttling as the cities).
CREATE TABLE platform.login_throttle (
    key             text PRIMARY KEY,
    failures        integer NOT NULL DEFAULT 0,
    last_failure_at timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz
);
