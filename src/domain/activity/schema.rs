//! Diesel tables of activities, enrolment, bookings and attendance (city schema).

diesel::table! {
    structures (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        address -> Text,
        daily_capacity -> Nullable<Integer>,
        active -> Bool,
    }
}

diesel::table! {
    schools (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        structure_id -> Nullable<BigInt>,
        address -> Text,
        capacity -> Nullable<Integer>,
        active -> Bool,
    }
}

diesel::table! {
    school_classes (id) {
        id -> BigInt,
        school_id -> BigInt,
        school_year -> Text,
        name -> Text,
        levels -> Array<Text>,
        teacher -> Text,
        capacity -> Nullable<Integer>,
        ulis -> Bool,
    }
}

diesel::table! {
    activities (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        kind -> Text,
        structure_id -> Nullable<BigInt>,
        description -> Text,
        opening -> Jsonb,
        booking_notice -> Nullable<Jsonb>,
        cancel_notice -> Nullable<Jsonb>,
        when_full -> Text,
        late_absence -> Nullable<Text>,
        requires_enrolment -> Bool,
        required_documents -> Array<Text>,
        required_facts -> Array<Text>,
        meal_choice -> Bool,
        offer_hours -> Integer,
        active -> Bool,
    }
}

diesel::table! {
    activity_groups (id) {
        id -> BigInt,
        activity_id -> BigInt,
        name -> Text,
        min_age_months -> Nullable<Integer>,
        max_age_months -> Nullable<Integer>,
        levels -> Array<Text>,
        children_per_staff -> Nullable<Integer>,
        sort -> Integer,
    }
}

diesel::table! {
    activity_units (id) {
        id -> BigInt,
        activity_id -> BigInt,
        code -> Text,
        label -> Text,
        starts -> Time,
        ends -> Time,
        hourly -> Bool,
        includes -> Array<Text>,
        excludes -> Array<Text>,
        requires -> Array<Text>,
        sort -> Integer,
    }
}

diesel::table! {
    capacities (id) {
        id -> BigInt,
        activity_id -> BigInt,
        group_id -> Nullable<BigInt>,
        unit_id -> Nullable<BigInt>,
        day -> Nullable<Date>,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
        places -> Integer,
        reason -> Text,
    }
}

diesel::table! {
    registration_periods (id) {
        id -> BigInt,
        activity_id -> BigInt,
        label -> Text,
        opens_at -> Timestamptz,
        closes_at -> Timestamptz,
        population -> Jsonb,
    }
}

diesel::table! {
    commission_criteria (id) {
        id -> BigInt,
        activity_id -> BigInt,
        kind -> Text,
        parameter -> Text,
        weight -> Integer,
    }
}

diesel::table! {
    enrolments (id) {
        id -> BigInt,
        number -> Integer,
        child_id -> BigInt,
        activity_id -> BigInt,
        group_id -> Nullable<BigInt>,
        household_id -> Nullable<BigInt>,
        status -> Text,
        starts -> Date,
        ends -> Nullable<Date>,
        wished_week -> Jsonb,
        missing -> Array<Text>,
        score -> Nullable<Integer>,
        score_detail -> Nullable<Jsonb>,
        bonus_points -> Integer,
        opinion -> Text,
        decision_note -> Text,
        appeal_reason -> Text,
        proposed_activity_id -> Nullable<BigInt>,
        offer_deadline -> Nullable<Timestamptz>,
        tariff -> Nullable<Text>,
        origin -> Text,
        requested_at -> Timestamptz,
        decided_at -> Nullable<Timestamptz>,
        decided_by -> Nullable<Text>,
    }
}

diesel::table! {
    bookings (id) {
        id -> BigInt,
        child_id -> BigInt,
        activity_id -> BigInt,
        group_id -> BigInt,
        unit_id -> BigInt,
        day -> Date,
        state -> Text,
        arrival -> Nullable<Time>,
        departure -> Nullable<Time>,
        adaptation -> Bool,
        billable -> Bool,
        meal_choice -> Nullable<Text>,
        origin -> Text,
        reason -> Text,
        document_id -> Nullable<BigInt>,
        booked_at -> Timestamptz,
        booked_by -> Text,
        state_at -> Timestamptz,
        state_by -> Text,
    }
}

diesel::table! {
    slot_counts (structure_id, activity_id, group_id, unit_id, day) {
        structure_id -> BigInt,
        activity_id -> BigInt,
        group_id -> BigInt,
        unit_id -> BigInt,
        day -> Date,
        taken -> Integer,
    }
}

diesel::table! {
    waitlist (id) {
        id -> BigInt,
        child_id -> BigInt,
        activity_id -> BigInt,
        group_id -> BigInt,
        unit_id -> BigInt,
        day -> Date,
        status -> Text,
        requested_at -> Timestamptz,
        requested_by -> Text,
        offered_at -> Nullable<Timestamptz>,
        offer_deadline -> Nullable<Timestamptz>,
        answered_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    tasks (id) {
        id -> BigInt,
        kind -> Text,
        subject_id -> Nullable<BigInt>,
        title -> Text,
        link -> Text,
        due_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        done_at -> Nullable<Timestamptz>,
        done_by -> Nullable<Text>,
    }
}

diesel::table! {
    staff_assignments (id) {
        id -> BigInt,
        group_id -> BigInt,
        day -> Date,
        name -> Text,
        agent_id -> Nullable<BigInt>,
        present -> Bool,
    }
}

diesel::table! {
    daily_notes (id) {
        id -> BigInt,
        child_id -> BigInt,
        activity_id -> BigInt,
        day -> Date,
        at -> Nullable<Time>,
        kind -> Text,
        text -> Text,
        author -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(activities -> structures (structure_id));
diesel::joinable!(activity_units -> activities (activity_id));
diesel::joinable!(activity_groups -> activities (activity_id));
diesel::joinable!(school_classes -> schools (school_id));
diesel::joinable!(enrolments -> activities (activity_id));

diesel::allow_tables_to_appear_in_same_query!(
    structures,
    schools,
    school_classes,
    activities,
    activity_groups,
    activity_units,
    capacities,
    registration_periods,
    commission_criteria,
    enrolments,
    bookings,
    slot_counts,
    waitlist,
    tasks,
    staff_assignments,
    daily_notes,
);
