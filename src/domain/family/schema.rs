//! Diesel tables of the family dossier (city schema).

diesel::table! {
    households (id) {
        id -> BigInt,
        number -> Integer,
        name -> Text,
        situation -> Text,
        regime -> Text,
        allocataire -> Nullable<Text>,
        status -> Text,
        archived_at -> Nullable<Timestamptz>,
        archive_reason -> Nullable<Text>,
        anonymised_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    persons (id) {
        id -> BigInt,
        kind -> Text,
        last_name -> Text,
        first_name -> Text,
        birth_name -> Nullable<Text>,
        sex -> Nullable<Text>,
        birth_date -> Nullable<Date>,
        birth_place -> Nullable<Text>,
        email -> Nullable<Text>,
        email_pro -> Nullable<Text>,
        phone_mobile -> Nullable<Text>,
        phone_home -> Nullable<Text>,
        phone_work -> Nullable<Text>,
        own_email_consent -> Bool,
        professional_situation -> Nullable<Text>,
        employer -> Nullable<Text>,
        contact_by_mail -> Bool,
        contact_by_sms -> Bool,
        contact_by_paper -> Bool,
        photo_document_id -> Nullable<BigInt>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    household_members (id) {
        id -> BigInt,
        household_id -> BigInt,
        person_id -> BigInt,
        role -> Text,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
    }
}

diesel::table! {
    child_links (id) {
        id -> BigInt,
        child_id -> BigInt,
        household_id -> BigInt,
        usual_residence -> Bool,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
    }
}

diesel::table! {
    custody_calendars (child_id) {
        child_id -> BigInt,
        patterns -> Jsonb,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    guardianships (id) {
        id -> BigInt,
        child_id -> BigInt,
        adult_id -> BigInt,
        relationship -> Text,
        joint_authority -> Bool,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
    }
}

diesel::table! {
    addresses (id) {
        id -> BigInt,
        household_id -> Nullable<BigInt>,
        person_id -> Nullable<BigInt>,
        kind -> Text,
        line1 -> Text,
        line2 -> Text,
        postal_code -> Text,
        town -> Text,
        country -> Text,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
    }
}

diesel::table! {
    billing_arrangements (id) {
        id -> BigInt,
        child_id -> BigInt,
        mode -> Text,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
    }
}

diesel::table! {
    billing_payers (id) {
        id -> BigInt,
        arrangement_id -> BigInt,
        payer_id -> BigInt,
        share_bp -> Integer,
    }
}

diesel::table! {
    incomes (id) {
        id -> BigInt,
        household_id -> BigInt,
        family_quotient -> Nullable<Integer>,
        monthly_resources -> Nullable<BigInt>,
        dependent_children -> SmallInt,
        source -> Text,
        document_id -> Nullable<BigInt>,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
        entered_by -> Text,
        entered_at -> Timestamptz,
    }
}

diesel::table! {
    bank_accounts (id) {
        id -> BigInt,
        household_id -> BigInt,
        holder_id -> BigInt,
        iban_enc -> Nullable<Bytea>,
        bic_enc -> Nullable<Bytea>,
        iban_hint -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sepa_mandates (id) {
        id -> BigInt,
        bank_account_id -> BigInt,
        rum -> Text,
        signed_on -> Date,
        status -> Text,
        sequence -> Text,
        ends_on -> Nullable<Date>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    authorisation_kinds (id) {
        id -> BigInt,
        code -> Text,
        label -> Text,
        description -> Text,
        active -> Bool,
        sort -> Integer,
    }
}

diesel::table! {
    authorisations (id) {
        id -> BigInt,
        kind_id -> BigInt,
        child_id -> BigInt,
        activity_id -> Nullable<BigInt>,
        granted -> Bool,
        given_by -> Nullable<BigInt>,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
    }
}

diesel::table! {
    child_contacts (id) {
        id -> BigInt,
        child_id -> BigInt,
        last_name -> Text,
        first_name -> Text,
        relationship -> Text,
        phone -> Text,
        emergency -> Bool,
        priority -> SmallInt,
        may_pick_up -> Bool,
        forbidden_pick_up -> Bool,
        notes -> Text,
    }
}

diesel::table! {
    health_sheets (child_id) {
        child_id -> BigInt,
        basic_enc -> Nullable<Bytea>,
        medical_enc -> Nullable<Bytea>,
        confidential_enc -> Nullable<Bytea>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    disability_benefits (id) {
        id -> BigInt,
        child_id -> BigInt,
        kind -> Text,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
    }
}

diesel::table! {
    school_history (id) {
        id -> BigInt,
        child_id -> BigInt,
        school_year -> Text,
        school_id -> Nullable<BigInt>,
        school_name -> Text,
        level -> Text,
        class_name -> Text,
        teacher -> Text,
    }
}

diesel::table! {
    custom_fields (id) {
        id -> BigInt,
        code -> Text,
        label -> Text,
        entity -> Text,
        kind -> Text,
        options -> Jsonb,
        active -> Bool,
        sort -> Integer,
    }
}

diesel::table! {
    custom_values (id) {
        id -> BigInt,
        field_id -> BigInt,
        household_id -> Nullable<BigInt>,
        person_id -> Nullable<BigInt>,
        value -> Jsonb,
    }
}

diesel::table! {
    observations (id) {
        id -> BigInt,
        household_id -> Nullable<BigInt>,
        person_id -> Nullable<BigInt>,
        text -> Text,
        author -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    documents (id) {
        id -> BigInt,
        household_id -> Nullable<BigInt>,
        person_id -> Nullable<BigInt>,
        activity_id -> Nullable<BigInt>,
        kind -> Text,
        title -> Text,
        file_name -> Text,
        mime -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        storage_path -> Text,
        valid_until -> Nullable<Date>,
        uploaded_by -> Text,
        uploaded_at -> Timestamptz,
    }
}

diesel::table! {
    household_search (household_id) {
        household_id -> BigInt,
        text -> Text,
    }
}

diesel::joinable!(household_members -> persons (person_id));
diesel::joinable!(household_members -> households (household_id));
diesel::joinable!(child_links -> persons (child_id));
diesel::joinable!(child_links -> households (household_id));
diesel::joinable!(addresses -> households (household_id));
diesel::joinable!(incomes -> households (household_id));
diesel::joinable!(authorisations -> authorisation_kinds (kind_id));
diesel::joinable!(custom_values -> custom_fields (field_id));
diesel::joinable!(sepa_mandates -> bank_accounts (bank_account_id));
diesel::joinable!(household_search -> households (household_id));
diesel::joinable!(bank_accounts -> households (household_id));
diesel::allow_tables_to_appear_in_same_query!(
    households,
    persons,
    household_members,
    child_links,
    addresses,
    incomes,
    guardianships,
    authorisations,
    authorisation_kinds,
    custom_values,
    custom_fields,
    bank_accounts,
    sepa_mandates,
    household_search,
    documents,
    child_contacts,
    school_history,
    disability_benefits,
    billing_arrangements,
    billing_payers
);
