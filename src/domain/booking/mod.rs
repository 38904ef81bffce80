//! Bookings (réservations): unit rules, capacities never exceeded, notice delays, the
//! waitlist and its offers, and the state of each booked unit through attendance.

pub mod capacity;
pub mod family;
pub mod state;
pub mod store;
pub mod units;
