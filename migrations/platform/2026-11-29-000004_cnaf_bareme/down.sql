DROP TABLE platform.cnaf_bareme_versions;
DROP FUNCTION platform.cnaf_bareme_append_only();
