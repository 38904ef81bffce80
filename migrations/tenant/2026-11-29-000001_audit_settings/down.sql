DROP TABLE setting_versions;
DROP FUNCTION notify_settings();
DROP FUNCTION forbid_change();
DROP FUNCTION enable_audit(regclass);
DROP FUNCTION audit_row();
DROP TABLE audit_log;
