-- Which key encrypts a city's sensitive columns (derived from the master key file and this
-- identifier). A plain copy of a city carries its key; an anonymised copy gets a new one.
ALTER TABLE platform.cities
    ADD COLUMN key_id text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '');
