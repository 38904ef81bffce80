DROP TRIGGER revision ON capacities;
DROP TRIGGER revision ON activity_groups;
DROP TRIGGER revision ON activity_units;
DROP TRIGGER revision ON structures;
DROP TRIGGER revision ON activities;
DROP FUNCTION activity_changed();
DROP TABLE activity_revisions;
