-- Family search at 20,000 households (issue 4: search p95 < 30 ms).
--
-- The search row of a household now also holds its words (`terms`, a GIN-indexed array):
-- names and first names of adults and children, birth names, address words, each lower
-- case without accents; the family number as '#123'; birth dates as 'YYYY-MM-DD'. A typed
-- word matches a household when one of its words is the typed word or a word similar to it;
-- the similar words come from `household_search_words`, the distinct words of the city
-- (a few thousand short rows, trigram-indexed). Matching is then an array overlap the GIN
-- index answers for every typed word at once, instead of a trigram scan of the whole
-- search text followed by word_similarity() on each candidate row. The row also carries
-- the family number and whether the family is active, so that ranking and counting the
-- matches read this table alone (src/domain/family/search.rs).

-- The words of a text as the search sees them: lower case, accents removed, split on
-- anything that is not a letter or a digit ("Jean-Jaurès" -> {jaures, jean}). The search
-- splits what is typed with the same function.
CREATE FUNCTION search_terms(input text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT coalesce(array_agg(DISTINCT t ORDER BY t), '{}')
          FROM regexp_split_to_table(ext.f_unaccent(lower(coalesce(input, ''))), '[^[:alnum:]]+') t
         WHERE t <> ''
    $$;

ALTER TABLE household_search
    ADD COLUMN number integer,
    ADD COLUMN active boolean NOT NULL DEFAULT true,
    ADD COLUMN terms text[] NOT NULL DEFAULT '{}',
    -- The words of the family name and of the members' last and birth names, and the
    -- family number ('#123'): an exact match on one of them ranks first.
    ADD COLUMN name_terms text[] NOT NULL DEFAULT '{}';
-- fastupdate off: no pending list for every search to scan after a burst of writes.
CREATE INDEX household_search_terms ON household_search USING gin (terms) WITH (fastupdate = off);
-- The list without a query: the latest families first.
CREATE INDEX household_search_number ON household_search (number);
-- The trigram index on the whole text is no longer read (the text stays, for reading).
DROP INDEX household_search_trgm;

-- The distinct words (with at least one letter) the search rows hold: where a typed word
-- finds its similar words (typos, prefixes). Maintained by refresh_household_search().
CREATE TABLE household_search_words (
    word text PRIMARY KEY
);
CREATE INDEX household_search_words_trgm ON household_search_words
    USING gin (word ext.gin_trgm_ops) WITH (fastupdate = off);

-- What the search row of each household should hold. Read for one household by
-- refresh_household_search() (the condition on household_id reaches the households scan),
-- for all by rebuild_household_search().
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
CREATE FUNCTION rebuild_household_search() RETURNS void LANGUAGE plpgsql AS $$
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

SELECT rebuild_household_search();
ALTER TABLE household_search ALTER COLUMN number SET NOT NULL;
