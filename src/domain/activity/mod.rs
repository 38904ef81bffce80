//! Activities (ACT): structures, schools and classes, the activity catalogue with its
//! groups, units, capacities, openings and registration periods; enrolment from the
//! pre-enrolment to the admission; agents' tasks.

pub mod catalogue;
pub mod commission;
pub mod demo;
pub mod enrolment;
pub mod facts;
pub mod model;
pub mod population;
pub mod schema;
pub mod schools;
pub mod tasks;
