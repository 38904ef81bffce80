//! Diesel tables of the `platform` schema (always schema-qualified).

diesel::table! {
    platform.cities (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        env -> Text,
        schema_name -> Text,
        status -> Text,
        theme -> Jsonb,
        production_id -> Nullable<BigInt>,
        key_id -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    platform.city_hosts (host) {
        host -> Text,
        city_id -> BigInt,
    }
}

diesel::table! {
    platform.admin_sessions (token_hash) {
        token_hash -> Bytea,
        admin -> Text,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::joinable!(city_hosts -> cities (city_id));
diesel::allow_tables_to_appear_in_same_query!(cities, city_hosts);
