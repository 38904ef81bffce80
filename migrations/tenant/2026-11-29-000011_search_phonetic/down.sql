DROP INDEX household_search_words_phonetic;
DROP FUNCTION search_phonetic(text);
