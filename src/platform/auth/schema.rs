//! Diesel tables of a city's identity (unqualified: they live in the city schema).

diesel::table! {
    agents (id) {
        id -> BigInt,
        login -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        oidc_subject -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        must_change_password -> Bool,
        active -> Bool,
        created_at -> Timestamptz,
        last_login_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    profiles (id) {
        id -> Text,
        label -> Text,
        description -> Text,
        builtin -> Bool,
    }
}

diesel::table! {
    profile_permissions (id) {
        id -> BigInt,
        profile_id -> Text,
        object -> Text,
        action -> Text,
    }
}

diesel::table! {
    agent_profiles (id) {
        id -> BigInt,
        agent_id -> BigInt,
        profile_id -> Text,
        population -> Text,
    }
}

diesel::table! {
    family_accounts (id) {
        id -> BigInt,
        login -> Text,
        email -> Text,
        display_name -> Text,
        password_hash -> Nullable<Text>,
        must_change_password -> Bool,
        profile_id -> Text,
        franceconnect_subject -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamptz,
        last_login_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    account_requests (id) {
        id -> BigInt,
        last_name -> Text,
        first_name -> Text,
        email -> Text,
        phone -> Text,
        message -> Text,
        status -> Text,
        reason -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamptz>,
        account_id -> Nullable<BigInt>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_clients (id) {
        id -> BigInt,
        name -> Text,
        token_hash -> Bytea,
        scopes -> Array<Text>,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Bytea,
        kind -> Text,
        subject_id -> Nullable<BigInt>,
        subject_label -> Text,
        break_glass -> Bool,
        id_token -> Nullable<Text>,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Integer,
        last_failure_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    oidc_pending (state) {
        state -> Text,
        kind -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    password_links (token_hash) {
        token_hash -> Bytea,
        account_kind -> Text,
        account_id -> BigInt,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    agents,
    agent_profiles,
    profiles,
    profile_permissions
);
diesel::joinable!(agent_profiles -> agents (agent_id));
diesel::joinable!(agent_profiles -> profiles (profile_id));
diesel::joinable!(profile_permissions -> profiles (profile_id));
