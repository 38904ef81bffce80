DROP TABLE daily_notes, staff_assignments, tasks, waitlist, slot_counts, bookings, enrolments,
    commission_criteria, registration_periods, capacities, activity_units, activity_groups,
    activities CASCADE;
ALTER TABLE school_history DROP COLUMN class_id;
ALTER TABLE school_history DROP CONSTRAINT IF EXISTS school_history_school_id_fkey;
DROP TABLE school_classes, schools, structures CASCADE;
