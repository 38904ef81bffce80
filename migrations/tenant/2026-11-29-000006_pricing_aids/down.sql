ALTER TABLE enrolments
    DROP COLUMN tariff_explanation,
    DROP COLUMN tariff_source,
    DROP COLUMN tariff_set_by,
    DROP COLUMN tariff_set_at;
DROP TABLE aid_grants;
