-- Family search reads one table (issue 4: search p95 < 30 ms at 20,000 households).
--
-- A result line shows the family name, its status, its town and its current members. They
-- were read from households, addresses, members, links and persons for every page; the
-- search row now carries them, kept by the same triggers as its words, so that a search
-- plans and runs on household_search alone.

ALTER TABLE household_search
    ADD COLUMN name text NOT NULL DEFAULT '',
    ADD COLUMN status text NOT NULL DEFAULT 'active',
    -- Town of the current residence address.
    ADD COLUMN town text,
    -- "Prénom NOM" of the current adults then children.
    ADD COLUMN members text NOT NULL DEFAULT '';

CREATE OR REPLACE VIEW household_search_source AS
SELECT h.id AS household_id,
       h.number,
       h.status = 'active' AS active,
       ext.f_unaccent(lower(concat_ws(' ', 'n' || h.number, h.number::text, h.name,
                                      people.text, places.text))) AS text,
       search_terms(concat_ws(' ', h.name, people.names, places.text))
           || ARRAY['#' || h.number] || people.birth_dates AS terms,
       search_terms(concat_ws(' ', h.name, people.last_names)) || ARRAY['#' || h.number] AS name_terms,
       h.name,
       h.status,
       (SELECT a.town FROM addresses a
         WHERE a.household_id = h.id AND a.kind = 'residence' AND a.valid_to IS NULL
         ORDER BY a.valid_from DESC LIMIT 1) AS town,
       coalesce((SELECT string_agg(p.first_name || ' ' || p.last_name, ', ' ORDER BY p.kind, p.birth_date, p.id)
                   FROM persons p
                  WHERE p.id IN (SELECT m.person_id FROM household_members m
                                  WHERE m.household_id = h.id AND m.valid_to IS NULL
                                 UNION SELECT l.child_id FROM child_links l
                                  WHERE l.household_id = h.id AND l.valid_to IS NULL)), '') AS members
  FROM households h
 CROSS JOIN LATERAL (
       SELECT string_agg(concat_ws(' ', p.last_name, p.first_name, p.birth_name,
                                   to_char(p.birth_date, 'DD/MM/YYYY')), ' ') AS text,
              string_agg(concat_ws(' ', p.last_name, p.first_name, p.birth_name), ' ') AS names,
              string_agg(concat_ws(' ', p.last_name, p.birth_name), ' ') AS last_names,
              coalesce(array_agg(DISTINCT to_char(p.birth_date, 'YYYY-MM-DD'))
                           FILTER (WHERE p.birth_date IS NOT NULL), '{}') AS birth_dates
         FROM persons p
        WHERE p.id IN (SELECT m.person_id FROM household_members m WHERE m.household_id = h.id
                       UNION SELECT l.child_id FROM child_links l WHERE l.household_id = h.id)) people
 CROSS JOIN LATERAL (
       SELECT string_agg(concat_ws(' ', a.line1, a.postal_code, a.town), ' ') AS text
         FROM addresses a
        WHERE a.household_id = h.id AND (a.valid_to IS NULL OR a.valid_to >= current_date)) places;

-- One search row written from its source (the columns listed once for both functions).
CREATE FUNCTION upsert_household_search(target bigint) RETURNS text[] LANGUAGE sql AS $$
    INSERT INTO household_search AS s (household_id, number, active, text, terms, name_terms,
                                       name, status, town, members)
    SELECT v.household_id, v.number, v.active, v.text, v.terms, v.name_terms,
           v.name, v.status, v.town, v.members
      FROM household_search_source v WHERE target IS NULL OR v.household_id = target
    ON CONFLICT (household_id) DO UPDATE
        SET number = EXCLUDED.number, active = EXCLUDED.active, text = EXCLUDED.text,
            terms = EXCLUDED.terms, name_terms = EXCLUDED.name_terms, name = EXCLUDED.name,
            status = EXCLUDED.status, town = EXCLUDED.town, members = EXCLUDED.members
    RETURNING s.terms
$$;

CREATE OR REPLACE FUNCTION refresh_household_search(target bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    previous text[];
    current_terms text[];
BEGIN
    SELECT s.terms INTO previous FROM household_search s WHERE s.household_id = target;
    current_terms := upsert_household_search(target);

    -- Every word of the row is known (cheap when it already is; also heals a word lost to
    -- the race below). In word order, so that two refreshes adding the same new words
    -- wait for each other instead of deadlocking.
    INSERT INTO household_search_words (word)
    SELECT DISTINCT w FROM unnest(current_terms) w WHERE w ~ '[[:alpha:]]' ORDER BY w
    ON CONFLICT DO NOTHING;
    -- ...and a word no household holds any more is forgotten (see migration 000005).
    DELETE FROM household_search_words w
     WHERE w.word = ANY (ARRAY(SELECT unnest(previous) EXCEPT SELECT unnest(current_terms)))
       AND NOT EXISTS (SELECT 1 FROM household_search s WHERE s.terms @> ARRAY[w.word]);
END $$;

CREATE OR REPLACE FUNCTION rebuild_household_search() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM upsert_household_search(NULL);
    DELETE FROM household_search_words;
    INSERT INTO household_search_words (word)
    SELECT DISTINCT w FROM household_search s, unnest(s.terms) w WHERE w ~ '[[:alpha:]]';
END $$;

SELECT rebuild_household_search();

-- The list without a query (latest families first) and its count read this index alone.
DROP INDEX IF EXISTS household_search_number;
CREATE INDEX household_search_number ON household_search (number) INCLUDE (active);
