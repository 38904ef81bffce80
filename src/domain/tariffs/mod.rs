//! Tariffs as data around the pure pricing engine (`domain::pricing`, which does no I/O):
//!
//! - [`bareme`]: the CNAF PSU barème, platform reference data SITIV updates each year
//!   (`platform.cnaf_bareme_versions`, seeded with the shipped file);
//! - [`grids`]: each city's tariff grids (`pricing.grid.<activity>`) and pricing rules
//!   (`pricing.settings`) as settings: versioned, audited, exported and imported with the
//!   other settings, validated before anything is written;
//! - [`render`]: a grid in plain French for the editor;
//! - [`preview`]: one consumption priced and told in one sentence;
//! - [`quote`]: the month's simulation of a household (devis);
//! - [`seed_demo_tariffs`]: grids for the demo cities.

pub mod bareme;
mod demo;
pub mod grids;
pub mod preview;
pub mod quote;
pub mod render;
pub mod toml_fr;

pub use demo::{demo_grid, seed_demo_tariffs};
pub use grids::{GRID_SETTING, PRICING_SETTING};
