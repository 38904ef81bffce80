//! Tariffs as data around the pure pricing engine (`domain::pricing`, which does no I/O):
//!
//! - [`bareme`]: the CNAF PSU barème, platform reference data SITIV updates each year
//!   (`platform.cnaf_bareme_versions`, seeded with the shipped file);
//! - [`grids`]: each city's tariff grids (`pricing.grid.<activity>`) and pricing rules
//!   (`pricing.settings`) as settings: versioned, audited, exported and imported with the
//!   other settings, validated before anything is written;
//! - [`render`]: a grid in plain French for the editor;
//! - [`preview`]: one consumption priced and told in one sentence;
//! - [`quote`]: a typical week priced over a month (pure) and the household's facts;
//! - [`simulation`]: the month's simulation (devis) shared by the back-office and the API;
//! - [`aids`]: the city's catalogue of aids (`pricing.aids`) and the aids granted to
//!   households (`aid_grants`), turned into the engine's aids;
//! - [`assignment`]: the tariff assigned to an enrolment at admission from the activity's
//!   rules (`pricing.assignment.<activity>`), and an agent's change of it;
//! - [`seed_demo_tariffs`]: grids, aids and assignment rules for the demo cities.

pub mod aids;
pub mod assignment;
pub mod bareme;
mod demo;
pub mod grids;
pub mod preview;
pub mod quote;
pub mod render;
pub mod simulation;
pub mod toml_fr;

pub use aids::AIDS_SETTING;
pub use assignment::ASSIGNMENT_SETTING;
pub use demo::{demo_grid, seed_demo_tariffs};
pub use grids::{GRID_SETTING, PRICING_SETTING};
