ALTER TABLE platform.cities DROP COLUMN key_id;
