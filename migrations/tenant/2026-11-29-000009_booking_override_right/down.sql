DELETE FROM profile_permissions WHERE object = 'bookings' AND action = 'process';
