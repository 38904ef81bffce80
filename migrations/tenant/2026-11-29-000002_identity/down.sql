DROP TABLE password_links, oidc_pending, login_throttle, sessions, api_clients, account_requests,
    family_accounts, agent_profiles, profile_permissions, profiles, agents;
DROP FUNCTION notify_authz();
