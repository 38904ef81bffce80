CREATE OR REPLACE FUNCTION refresh_household_search(target bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO household_search (household_id, text)
    SELECT h.id, ext.f_unaccent(lower(concat_ws(' ',
        'n' || h.number, h.number::text, h.name,
        (SELECT string_agg(concat_ws(' ', p.last_name, p.first_name, p.birth_name,
                                     to_char(p.birth_date, 'DD/MM/YYYY')), ' ')
           FROM persons p
          WHERE p.id IN (SELECT m.person_id FROM household_members m WHERE m.household_id = h.id
                         UNION SELECT l.child_id FROM child_links l WHERE l.household_id = h.id)),
        (SELECT string_agg(concat_ws(' ', a.line1, a.postal_code, a.town), ' ')
           FROM addresses a WHERE a.household_id = h.id AND (a.valid_to IS NULL OR a.valid_to >= current_date)))))
      FROM households h WHERE h.id = target
    ON CONFLICT (household_id) DO UPDATE SET text = EXCLUDED.text
$$;
DROP FUNCTION rebuild_household_search();
DROP VIEW household_search_source;
DROP TABLE household_search_words;
DROP INDEX household_search_terms;
ALTER TABLE household_search
    DROP COLUMN number, DROP COLUMN active, DROP COLUMN terms, DROP COLUMN name_terms;
CREATE INDEX household_search_trgm ON household_search USING gin (text ext.gin_trgm_ops);
DROP FUNCTION search_terms(text);
