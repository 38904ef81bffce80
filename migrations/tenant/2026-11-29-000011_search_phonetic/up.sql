-- Family search by sound (issue 4: typo-tolerant search). Trigrams catch a letter typed
-- wrong but not a word written as it sounds: « sofie » for Sophie, « gotier » for Gauthier,
-- « lefevre » for Lefebvre. Each word of the city's list also answers to its French
-- phonetic key; the index below finds the words sharing the key of a typed word.

-- A rough French phonetic key of an unaccented lower-case word: spellings that sound alike
-- get the same key. The order matters (digraphs before single letters). Words of less than
-- 3 letters, and those with digits, have none.
CREATE FUNCTION search_phonetic(word text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
    AS $$
DECLARE
    key text := word;
BEGIN
    IF length(word) < 3 OR word ~ '[0-9]' THEN RETURN NULL; END IF;
    key := regexp_replace(key, 'ch([lr])', 'k\1', 'g');
    key := regexp_replace(key, '(ch|sh)', 'x', 'g');
    key := regexp_replace(key, 'ph', 'f', 'g');
    key := regexp_replace(key, 'qu?', 'k', 'g');
    key := regexp_replace(key, 'c([eiy])', 's\1', 'g');
    key := regexp_replace(key, 'ck?', 'k', 'g');
    -- A hard g (« gue », « gui ») is kept apart (G) while the soft ones become j.
    key := regexp_replace(key, 'gu([eiy])', 'G\1', 'g');
    key := regexp_replace(key, 'g([eiy])', 'j\1', 'g');
    key := replace(key, 'G', 'g');
    key := replace(key, 'h', '');
    key := regexp_replace(key, '(eau|au)', 'o', 'g');
    key := regexp_replace(key, '(ai|ei|er$|et$)', 'e', 'g');
    key := replace(key, 'z', 's');
    key := regexp_replace(key, '(w|bv)', 'v', 'g');
    key := replace(key, 'y', 'i');
    key := regexp_replace(key, '(.)\1+', '\1', 'g');
    -- Silent endings: a final e after a consonant, final s, t, d, x, p.
    key := regexp_replace(key, '[stdxp]+$', '');
    key := regexp_replace(key, '([^aeiou])e$', '\1');
    RETURN key;
END $$;

CREATE INDEX household_search_words_phonetic ON household_search_words (search_phonetic(word));
