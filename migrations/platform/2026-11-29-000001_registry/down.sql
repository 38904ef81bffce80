DROP TABLE platform.admin_sessions;
DROP TABLE platform.city_hosts;
DROP TABLE platform.cities;
DROP FUNCTION platform.notify_registry();
DROP FUNCTION platform.audit_row();
DROP TABLE platform.audit_log;
DROP FUNCTION ext.f_unaccent(text);
