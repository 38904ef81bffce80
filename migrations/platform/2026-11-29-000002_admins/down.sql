DROP TABLE platform.login_throttle, platform.break_glass, platform.admins;
