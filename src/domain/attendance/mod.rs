//! Attendance (pointage): the lists of expected children per structure, activity, group
//! or class and day, marking them (one child, a whole group, a child there without
//! booking), staff and supervision ratios (ACT-10), the daily notebook, and the CSV
//! exports post-billing reads. The state of each booked unit is kept by `booking::store`;
//! this area reads, presents and marks it.
//!
//! - [`list`]: the day list, what to know of each child, headings and choices;
//! - [`marking`]: marks, « tous présents », children without booking;
//! - [`ratio`]: pure headcounts and ratio checks;
//! - [`staff`]: staff planned and present per group and day;
//! - [`notebook`]: the daily follow-up notebook;
//! - [`export`]: CSV detail and summary;
//! - [`demo`]: attendance of the demonstration cities.

pub mod demo;
pub mod export;
pub mod list;
pub mod marking;
pub mod notebook;
pub mod ratio;
pub mod staff;

pub use demo::seed_demo_attendance;
pub use list::{GroupDay, Row, Selection, day_list};
