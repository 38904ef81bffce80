DROP TABLE household_search, documents, observations, custom_values, custom_fields, school_history,
    disability_benefits, health_sheets, child_contacts, authorisations, authorisation_kinds,
    sepa_mandates, bank_accounts, incomes, billing_payers, billing_arrangements, addresses,
    guardianships, custody_calendars, child_links, household_members, persons, households CASCADE;
DROP FUNCTION household_search_trigger(), refresh_household_search(bigint);
ALTER TABLE family_accounts DROP COLUMN person_id, DROP COLUMN household_id;
