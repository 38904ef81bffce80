//! Business areas. Each folder holds the logic and the queries of one area; handlers in
//! `web/` call them, they never see HTTP.

pub mod activity;
pub mod attendance;
pub mod blueprint;
pub mod booking;
pub mod calendar;
pub mod family;
pub mod money;
pub mod pricing;
pub mod settings;
pub mod tariffs;

pub use blueprint::CITY_BLUEPRINT;
