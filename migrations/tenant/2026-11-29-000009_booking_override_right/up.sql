-- The right to book or cancel past a notice delay, with a reason (`bookings` « process »,
-- the agents' booking screen), given to the profiles that have it in policies/default.csv
-- for cities provisioned before it existed. A city that removed such a profile keeps it
-- removed; an administrator grants the right to other profiles under Profils.
INSERT INTO profile_permissions (profile_id, object, action)
SELECT p.id, 'bookings', 'process' FROM profiles p
 WHERE p.id IN ('city_admin', 'structure_director')
ON CONFLICT (profile_id, object, action) DO NOTHING;
