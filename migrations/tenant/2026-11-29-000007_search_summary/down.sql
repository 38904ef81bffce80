-- Back to the search rows of migration 000005.
DROP FUNCTION upsert_household_search(bigint);
DROP VIEW household_search_source;
CREATE VIEW household_search_source AS
SELECT h.id AS household_id,
       h.number,
       h.status = 'active' AS active,
       ext.f_unaccent(lower(concat_ws(' ', 'n' || h.number, h.number::text, h.name,
                                      people.text, places.text))) AS text,
       search_terms(concat_ws(' ', h.name, people.names, places.text))
           || ARRAY['#' || h.number] || people.birth_dates AS terms,
       search_terms(concat_ws(' ', h.name, people.last_names)) || ARRAY['#' || h.number] AS name_terms
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

CREATE OR REPLACE FUNCTION refresh_household_search(target bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    previous text[];
    current_terms text[];
BEGIN
    SELECT s.terms INTO previous FROM household_search s WHERE s.household_id = target;
    INSERT INTO household_search (household_id, number, active, text, terms, name_terms)
    SELECT v.household_id, v.number, v.active, v.text, v.terms, v.name_terms
      FROM household_search_source v WHERE v.household_id = target
    ON CONFLICT (household_id) DO UPDATE
        SET number = EXCLUDED.number, active = EXCLUDED.active, text = EXCLUDED.text,
            terms = EXCLUDED.terms, name_terms = EXCLUDED.name_terms
    RETURNING terms INTO current_terms;

    -- Every word of the row is known (cheap when it already is; also heals a word lost to
    -- the race below). In word order, so that two refreshes adding the same new words
    -- wait for each other instead of deadlocking.
    INSERT INTO household_search_words (word)
    SELECT DISTINCT w FROM unnest(current_terms) w WHERE w ~ '[[:alpha:]]' ORDER BY w
    ON CONFLICT DO NOTHING;
    -- ...and a word no household holds any more is forgotten, so that an erased family's
    -- names do not stay behind. A household gaining that very word in a concurrent, not yet
    -- committed transaction may lose it from this table: it is then still found by the
    -- word typed exactly, and by similar words again once it is refreshed (or any household
    -- gains the word).
    DELETE FROM household_search_words w
     WHERE w.word = ANY (ARRAY(SELECT unnest(previous) EXCEPT SELECT unnest(current_terms)))
       AND NOT EXISTS (SELECT 1 FROM household_search s WHERE s.terms @> ARRAY[w.word]);
END $$;

-- Every search row and the word list recomputed at once: after an anonymisation (the word
-- list then holds none of the former names), and to fill the new columns below.
CREATE OR REPLACE FUNCTION rebuild_household_search() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO household_search (household_id, number, active, text, terms, name_terms)
    SELECT v.household_id, v.number, v.active, v.text, v.terms, v.name_terms
      FROM household_search_source v
    ON CONFLICT (household_id) DO UPDATE
        SET number = EXCLUDED.number, active = EXCLUDED.active, text = EXCLUDED.text,
            terms = EXCLUDED.terms, name_terms = EXCLUDED.name_terms;
    DELETE FROM household_search_words;
    INSERT INTO household_search_words (word)
    SELECT DISTINCT w FROM household_search s, unnest(s.terms) w WHERE w ~ '[[:alpha:]]';
END $$;
DROP INDEX IF EXISTS household_search_number;
CREATE INDEX household_search_number ON household_search (number);
ALTER TABLE household_search DROP COLUMN name, DROP COLUMN status, DROP COLUMN town, DROP COLUMN members;
