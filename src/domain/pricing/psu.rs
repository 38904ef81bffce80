//! CNAF PSU barème (crèches): reference data, lookup, and the hourly rate.
//!
//! hourly rate = monthly resources, held between the floor and the ceiling of the date,
//! × the effort rate for the number of dependent children and the care type; each child of the
//! household receiving the AEEH gives the rate of one more child. The barème is data
//! (`data/cnaf/bareme-psu.toml`) that SITIV updates each year without a release.

use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::dated::{self, effective_dated};
use super::error::{ConfigError, PricingError};
use super::percent::{Percent, decimal_fr, strict_decimal};
use super::settings::PsuCeiling;
use super::{Cents, round_half_up_to_cent};

/// The barème as shipped with the product; SITIV may load a newer file at run time.
pub const SHIPPED_BAREME_TOML: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/cnaf/bareme-psu.toml"
));

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CareType {
    Collective,
    Familial,
    Parental,
    Micro,
}

impl CareType {
    pub fn label_fr(self) -> &'static str {
        match self {
            CareType::Collective => "accueil collectif",
            CareType::Familial => "accueil familial",
            CareType::Parental => "accueil parental",
            CareType::Micro => "micro-crèche",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bareme {
    pub resource_limits: Vec<ResourceLimits>,
    pub effort_rates: Vec<EffortRateTable>,
}

/// Monthly resource floor (plancher) and ceiling (plafond) of a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceLimits {
    pub id: Arc<str>,
    pub valid_from: NaiveDate,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    pub floor: Cents,
    pub ceiling: Cents,
    pub source: String,
}
effective_dated!(ResourceLimits);

/// Effort rates of a period, per care type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffortRateTable {
    pub id: Arc<str>,
    pub valid_from: NaiveDate,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    pub source: String,
    pub collective: Vec<RateRow>,
    pub familial: Vec<RateRow>,
    pub parental: Vec<RateRow>,
    pub micro: Vec<RateRow>,
}
effective_dated!(EffortRateTable);

/// The rate from `children` children up to the next row (the CNAF groups "4 à 7 enfants").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateRow {
    pub children: u8,
    pub rate: Percent,
}

impl EffortRateTable {
    fn rows(&self, care: CareType) -> &[RateRow] {
        match care {
            CareType::Collective => &self.collective,
            CareType::Familial => &self.familial,
            CareType::Parental => &self.parental,
            CareType::Micro => &self.micro,
        }
    }

    /// The rate of the last row starting at or below `children` (validated tables start at 1).
    fn rate_for(&self, care: CareType, children: u8) -> Option<Percent> {
        self.rows(care)
            .iter()
            .rev()
            .find(|row| row.children <= children)
            .map(|row| row.rate)
    }
}

impl Bareme {
    pub fn from_toml_str(text: &str) -> Result<Bareme, ConfigError> {
        let bareme: Bareme = toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
        bareme.validate()?;
        Ok(bareme)
    }

    /// The barème compiled into the product (`data/cnaf/bareme-psu.toml`).
    pub fn shipped() -> Result<Bareme, ConfigError> {
        Bareme::from_toml_str(SHIPPED_BAREME_TOML)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        dated::check_periods(&self.resource_limits, "barème PSU, plancher et plafond")?;
        dated::check_periods(&self.effort_rates, "barème PSU, taux d'effort")?;
        for limits in &self.resource_limits {
            let what = format!("barème PSU, plancher et plafond « {} »", limits.id);
            if !limits.floor.is_positive() || limits.ceiling <= limits.floor {
                return Err(ConfigError::invalid(
                    what,
                    "le plancher doit être positif et inférieur au plafond",
                ));
            }
        }
        for table in &self.effort_rates {
            for care in [
                CareType::Collective,
                CareType::Familial,
                CareType::Parental,
                CareType::Micro,
            ] {
                let what = format!("barème PSU, taux « {} », {}", table.id, care.label_fr());
                validate_rows(&what, table.rows(care))?;
            }
        }
        Ok(())
    }
}

/// Rows start at one child, go up in children, and rates are positive and never rise with the
/// number of children (a rise is always a typo in a CNAF table).
fn validate_rows(what: &str, rows: &[RateRow]) -> Result<(), ConfigError> {
    if rows.first().map(|row| row.children) != Some(1) {
        return Err(ConfigError::invalid(
            what,
            "la première ligne doit être celle d'un enfant",
        ));
    }
    if rows.iter().any(|row| !row.rate.is_positive()) {
        return Err(ConfigError::invalid(what, "les taux doivent être positifs"));
    }
    for pair in rows.windows(2) {
        if pair[1].children <= pair[0].children || pair[1].rate > pair[0].rate {
            return Err(ConfigError::invalid(
                what,
                "les lignes doivent aller par nombre d'enfants croissant, à taux décroissant",
            ));
        }
    }
    Ok(())
}

/// The query of `GET /api/v1/pricing/psu?resources=…&children=…&aeeh=…&date=…&care=…`,
/// deserialisable from it as is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PsuRequest {
    /// Monthly resources in decimal euros (`resources=3000` or `3000.50`).
    #[serde(rename = "resources")]
    pub monthly_resources: Cents,
    pub children: u8,
    #[serde(default)]
    pub aeeh: u8,
    pub date: NaiveDate,
    pub care: CareType,
}

/// The answer of `GET /api/v1/pricing/psu`, serialised exactly as the API returns it:
/// `{"hourly_rate": "1.55", "effort_rate": "0.0516", "resources_used": "3000.00", "rule": "…"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PsuRate {
    /// Rounded half-up to the cent.
    pub hourly_rate: Cents,
    /// As the CNAF prints it: "0.0516" means 0.0516 %.
    pub effort_rate: Percent,
    pub resources_used: Cents,
    pub rule: String,
}

/// The PSU hourly rate for the API; the handler only parses the query and serialises this.
pub fn psu_hourly_rate(
    bareme: &Bareme,
    request: &PsuRequest,
    city_ceiling: PsuCeiling,
) -> Result<PsuRate, PricingError> {
    let input = PsuInput {
        declared_resources: Some(request.monthly_resources),
        children: request.children,
        aeeh_children: request.aeeh,
        date: request.date,
        care: request.care,
    };
    let figures = psu_figures(bareme, &input, city_ceiling)?;
    let hourly_rate = round_half_up_to_cent(figures.exact_hourly_rate)?;
    Ok(PsuRate {
        hourly_rate,
        effort_rate: figures.rate,
        resources_used: figures.resources_used,
        rule: format!("{figures}, soit {hourly_rate} de l'heure arrondi au centime"),
    })
}

/// What the PSU computation needs. `declared_resources: None` means the family did not provide
/// its resources and the city chose to price at the ceiling (the caller checked that policy).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PsuInput {
    pub declared_resources: Option<Cents>,
    pub children: u8,
    pub aeeh_children: u8,
    pub date: NaiveDate,
    pub care: CareType,
}

/// Every figure of a PSU rate, kept for the explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PsuFigures {
    pub rates_id: Arc<str>,
    pub limits_id: Arc<str>,
    pub care: CareType,
    pub children: u8,
    pub aeeh_children: u8,
    pub rate: Percent,
    pub declared_resources: Option<Cents>,
    pub floor: Cents,
    /// The ceiling applied: the CNAF's, the city's higher one, or none.
    pub ceiling: Option<Cents>,
    pub ceiling_is_city_choice: bool,
    pub resources_used: Cents,
    #[serde(with = "strict_decimal")]
    pub exact_hourly_rate: Decimal,
}

pub(crate) fn psu_figures(
    bareme: &Bareme,
    input: &PsuInput,
    city_ceiling: PsuCeiling,
) -> Result<PsuFigures, PricingError> {
    if input.children == 0 {
        return Err(PricingError::NoDependentChild);
    }
    if input.aeeh_children > input.children {
        return Err(PricingError::AeehExceedsChildren {
            aeeh: input.aeeh_children,
            children: input.children,
        });
    }
    let no_bareme = PricingError::NoBaremeInForce { date: input.date };
    let limits =
        dated::in_force_on(&bareme.resource_limits, input.date).ok_or(no_bareme.clone())?;
    let table = dated::in_force_on(&bareme.effort_rates, input.date).ok_or(no_bareme.clone())?;
    let rate_children = input.children.saturating_add(input.aeeh_children);
    let rate = table.rate_for(input.care, rate_children).ok_or(no_bareme)?;
    let ceiling = applied_ceiling(limits.ceiling, city_ceiling, input.date)?;
    let resources_used = resources_used(input.declared_resources, limits.floor, ceiling)?;
    Ok(PsuFigures {
        rates_id: table.id.clone(),
        limits_id: limits.id.clone(),
        care: input.care,
        children: input.children,
        aeeh_children: input.aeeh_children,
        rate,
        declared_resources: input.declared_resources,
        floor: limits.floor,
        ceiling,
        ceiling_is_city_choice: city_ceiling != PsuCeiling::Cnaf,
        resources_used,
        exact_hourly_rate: rate.of(resources_used.to_decimal())?,
    })
}

/// The city may raise the CNAF ceiling or remove it, never lower it.
fn applied_ceiling(
    cnaf: Cents,
    city: PsuCeiling,
    date: NaiveDate,
) -> Result<Option<Cents>, PricingError> {
    match city {
        PsuCeiling::Cnaf => Ok(Some(cnaf)),
        PsuCeiling::Higher(configured) if configured < cnaf => {
            Err(PricingError::CityCeilingBelowCnaf {
                configured,
                cnaf,
                date,
            })
        }
        PsuCeiling::Higher(configured) => Ok(Some(configured)),
        PsuCeiling::Uncapped => Ok(None),
    }
}

fn resources_used(
    declared: Option<Cents>,
    floor: Cents,
    ceiling: Option<Cents>,
) -> Result<Cents, PricingError> {
    match declared {
        Some(resources) if resources.is_negative() => Err(PricingError::NegativeIncome {
            what: "ressources mensuelles",
            value: resources,
        }),
        Some(resources) => {
            let floored = resources.max(floor);
            Ok(ceiling.map_or(floored, |ceiling| floored.min(ceiling)))
        }
        None => ceiling.ok_or(PricingError::Misconfigured {
            rule_id: "psu".to_owned(),
            reason: "ressources non renseignées et plafond supprimé par la ville : aucun tarif maximal ne peut s'appliquer".to_owned(),
        }),
    }
}

/// « Barème PSU CNAF (taux 2022, plancher et plafond 2025-09) : accueil collectif, 2 enfants à
/// charge dont 0 bénéficiaire de l'AEEH, taux d'effort 0,0516 % ; ressources mensuelles
/// 3 000,00 € (plancher 801,00 €, plafond CNAF 8 500,00 €) ; 3 000,00 € × 0,0516 % = 1,548 € »
impl fmt::Display for PsuFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Barème PSU CNAF (taux {}, plancher et plafond {}) : {}, {}",
            self.rates_id,
            self.limits_id,
            self.care.label_fr(),
            count_fr(self.children, "enfant à charge", "enfants à charge")
        )?;
        if self.aeeh_children > 0 {
            write!(
                f,
                " dont {} de l'AEEH (taux de {} enfants)",
                count_fr(self.aeeh_children, "bénéficiaire", "bénéficiaires"),
                self.children.saturating_add(self.aeeh_children)
            )?;
        }
        write!(f, ", taux d'effort {} ; ", self.rate)?;
        let ceiling_name = if self.ceiling_is_city_choice {
            "plafond de la ville"
        } else {
            "plafond CNAF"
        };
        let limits = match self.ceiling {
            Some(ceiling) => format!("plancher {}, {ceiling_name} {ceiling}", self.floor),
            None => format!(
                "plancher {}, sans plafond par choix de la ville",
                self.floor
            ),
        };
        match self.declared_resources {
            None => write!(
                f,
                "ressources non renseignées : {ceiling_name} appliqué selon le paramétrage de la ville ({limits})"
            )?,
            Some(declared) if declared == self.resources_used => {
                write!(f, "ressources mensuelles {declared} ({limits})")?
            }
            Some(declared) => write!(
                f,
                "ressources mensuelles {declared}, retenues pour {} ({limits})",
                self.resources_used
            )?,
        }
        write!(
            f,
            " ; {} × {} = {}\u{a0}€ de l'heure",
            self.resources_used,
            self.rate,
            decimal_fr(self.exact_hourly_rate)
        )
    }
}

/// « 1 enfant à charge », « 2 enfants à charge » (French uses the singular below 2).
fn count_fr(count: u8, singular: &str, plural: &str) -> String {
    format!("{count} {}", if count < 2 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bareme() -> Bareme {
        Bareme::shipped().expect("the shipped barème must load")
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn request(resources: &str, children: u8, aeeh: u8, date: &str, care: CareType) -> PsuRequest {
        PsuRequest {
            monthly_resources: Cents::parse_euros(resources).unwrap(),
            children,
            aeeh,
            date: day(date),
            care,
        }
    }

    /// The hourly rate in cents, with the CNAF ceiling.
    fn rate(resources: &str, children: u8, aeeh: u8, date: &str, care: CareType) -> Cents {
        psu_hourly_rate(
            &bareme(),
            &request(resources, children, aeeh, date, care),
            PsuCeiling::Cnaf,
        )
        .unwrap()
        .hourly_rate
    }

    use CareType::*;

    #[test]
    fn the_api_example() {
        let answer = psu_hourly_rate(
            &bareme(),
            &request("3000", 2, 0, "2025-10-15", Collective),
            PsuCeiling::Cnaf,
        )
        .unwrap();
        assert_eq!(answer.hourly_rate.to_decimal_euros(), "1.55");
        assert_eq!(answer.effort_rate.0.to_string(), "0.0516");
        assert_eq!(answer.resources_used.to_decimal_euros(), "3000.00");
        assert_eq!(
            answer.rule,
            "Barème PSU CNAF (taux 2022, plancher et plafond 2025-09) : accueil collectif, 2 enfants à charge, taux d'effort 0,0516\u{a0}% ; ressources mensuelles 3\u{a0}000,00\u{a0}€ (plancher 801,00\u{a0}€, plafond CNAF 8\u{a0}500,00\u{a0}€) ; 3\u{a0}000,00\u{a0}€ × 0,0516\u{a0}% = 1,548\u{a0}€ de l'heure, soit 1,55\u{a0}€ de l'heure arrondi au centime"
        );
    }

    #[test]
    fn serialises_the_four_api_fields_as_strings() {
        let answer = psu_hourly_rate(
            &bareme(),
            &request("3000", 2, 0, "2025-10-15", Collective),
            PsuCeiling::Cnaf,
        )
        .unwrap();
        let text = toml::to_string(&answer).unwrap();
        assert!(text.contains("hourly_rate = \"1.55\""), "{text}");
        assert!(text.contains("effort_rate = \"0.0516\""), "{text}");
        assert!(text.contains("resources_used = \"3000.00\""), "{text}");
        assert_eq!(text.lines().count(), 4, "{text}");
    }

    #[test]
    fn the_request_reads_the_api_query_names() {
        let request: PsuRequest = toml::from_str(
            "resources = \"3000\"\nchildren = 2\ndate = \"2025-10-15\"\ncare = \"micro\"",
        )
        .unwrap();
        assert_eq!(request, self::request("3000", 2, 0, "2025-10-15", Micro));
    }

    #[test]
    fn ceiling_6000_until_2024_08_31_then_7000() {
        // 6 500 € is above the 6 000 € ceiling: 6 000 × 0.0619 % = 3.714 → 3.71.
        assert_eq!(rate("6500", 1, 0, "2024-08-31", Collective), Cents(371));
        // From 2024-09-01 the ceiling is 7 000 €: 6 500 × 0.0619 % = 4.0235 → 4.02.
        assert_eq!(rate("6500", 1, 0, "2024-09-01", Collective), Cents(402));
        // 9 000 € is held at 7 000 €: 7 000 × 0.0619 % = 4.333 → 4.33.
        assert_eq!(rate("9000", 1, 0, "2024-09-01", Collective), Cents(433));
    }

    #[test]
    fn ceiling_8500_from_2025_09_01() {
        assert_eq!(rate("9000", 1, 0, "2025-08-31", Collective), Cents(433));
        // 8 500 × 0.0619 % = 5.2615 → 5.26.
        assert_eq!(rate("9000", 1, 0, "2025-09-01", Collective), Cents(526));
        // Exactly at the ceiling.
        assert_eq!(rate("8500", 1, 0, "2025-09-01", Collective), Cents(526));
    }

    #[test]
    fn floors_of_each_year() {
        // 2023 floor 754.16 €: × 0.0619 % = 0.46681… → 0.47.
        assert_eq!(rate("0", 1, 0, "2023-06-01", Collective), Cents(47));
        // 2024 floor 765.77 €: × 0.0619 % = 0.47401… → 0.47.
        assert_eq!(rate("500", 1, 0, "2024-03-01", Collective), Cents(47));
        // 2025 floor 801.00 €: × 0.0619 % = 0.495819 → 0.50.
        assert_eq!(rate("500", 1, 0, "2025-03-01", Collective), Cents(50));
        // 2019 floor 705.27 €: × 0.0605 % = 0.42668… → 0.43.
        assert_eq!(rate("100", 1, 0, "2019-10-01", Collective), Cents(43));
        let figures = psu_hourly_rate(
            &bareme(),
            &request("500", 1, 0, "2025-03-01", Collective),
            PsuCeiling::Cnaf,
        )
        .unwrap();
        assert_eq!(figures.resources_used, Cents(80_100));
        assert!(
            figures
                .rule
                .contains("ressources mensuelles 500,00\u{a0}€, retenues pour 801,00\u{a0}€")
        );
    }

    #[test]
    fn rates_by_number_of_children() {
        // 2025, collective, 3 000 €.
        assert_eq!(rate("3000", 1, 0, "2025-10-15", Collective), Cents(186)); // 1.857
        assert_eq!(rate("3000", 2, 0, "2025-10-15", Collective), Cents(155)); // 1.548
        assert_eq!(rate("3000", 3, 0, "2025-10-15", Collective), Cents(124)); // 1.239
        assert_eq!(rate("3000", 4, 0, "2025-10-15", Collective), Cents(93)); // 0.93
        assert_eq!(rate("3000", 7, 0, "2025-10-15", Collective), Cents(93));
        assert_eq!(rate("3000", 8, 0, "2025-10-15", Collective), Cents(62)); // 0.618
        assert_eq!(rate("3000", 12, 0, "2025-10-15", Collective), Cents(62));
    }

    #[test]
    fn half_a_cent_rounds_up() {
        // 5 000 × 0.0413 % = 2.065 exactly → 2.07 (banker's rounding would say 2.06).
        assert_eq!(rate("5000", 3, 0, "2025-10-15", Collective), Cents(207));
    }

    #[test]
    fn each_aeeh_child_gives_the_rate_of_one_more_child() {
        // 2 children, one with AEEH: the rate of 3 children, 0.0413 %: 3 000 × 0.0413 % = 1.239.
        assert_eq!(rate("3000", 2, 1, "2025-10-15", Collective), Cents(124));
        // 2 children, both with AEEH: the rate of 4 children, 0.0310 % → 0.93.
        assert_eq!(rate("3000", 2, 2, "2025-10-15", Collective), Cents(93));
        let answer = psu_hourly_rate(
            &bareme(),
            &request("3000", 2, 1, "2025-10-15", Collective),
            PsuCeiling::Cnaf,
        )
        .unwrap();
        assert!(
            answer
                .rule
                .contains("2 enfants à charge dont 1 bénéficiaire de l'AEEH (taux de 3 enfants)")
        );
    }

    #[test]
    fn rates_of_earlier_years() {
        // 1 child, 3 000 €: 0.0605 % in late 2019, 0.0610 % in 2020, 0.0615 % in 2021.
        assert_eq!(rate("3000", 1, 0, "2019-09-01", Collective), Cents(182)); // 1.815
        assert_eq!(rate("3000", 1, 0, "2020-06-15", Collective), Cents(183)); // 1.83
        assert_eq!(rate("3000", 1, 0, "2021-06-15", Collective), Cents(185)); // 1.845
        assert_eq!(rate("3000", 1, 0, "2022-06-15", Collective), Cents(186)); // 1.857
    }

    #[test]
    fn care_types() {
        // Micro-crèches use the collective rates since circulaire 2019-005.
        assert_eq!(rate("3000", 1, 0, "2025-10-15", Micro), Cents(186));
        // Familial and parental care: 0.0516 % for one child → 1.548 → 1.55.
        assert_eq!(rate("3000", 1, 0, "2025-10-15", Familial), Cents(155));
        assert_eq!(rate("3000", 1, 0, "2025-10-15", Parental), Cents(155));
        assert_eq!(rate("3000", 2, 0, "2025-10-15", Familial), Cents(124));
    }

    #[test]
    fn the_city_may_raise_or_remove_the_ceiling_but_not_lower_it() {
        let query = request("9500", 1, 0, "2025-10-15", Collective);
        let raised = psu_hourly_rate(
            &bareme(),
            &query,
            PsuCeiling::Higher(Cents::from_euros(10_000)),
        );
        // 9 500 × 0.0619 % = 5.8805 → 5.88.
        assert_eq!(raised.unwrap().hourly_rate, Cents(588));
        let lowered = psu_hourly_rate(
            &bareme(),
            &query,
            PsuCeiling::Higher(Cents::from_euros(8_000)),
        );
        assert!(matches!(
            lowered,
            Err(PricingError::CityCeilingBelowCnaf { .. })
        ));
        // 8 000 € was above the 7 000 € ceiling of 2025-03: allowed then.
        let earlier = request("9500", 1, 0, "2025-03-01", Collective);
        let then = psu_hourly_rate(
            &bareme(),
            &earlier,
            PsuCeiling::Higher(Cents::from_euros(8_000)),
        );
        assert_eq!(then.unwrap().hourly_rate, Cents(495)); // 8 000 × 0.0619 % = 4.952
        let uncapped = request("12000", 1, 0, "2025-10-15", Collective);
        let answer = psu_hourly_rate(&bareme(), &uncapped, PsuCeiling::Uncapped).unwrap();
        assert_eq!(answer.hourly_rate, Cents(743)); // 7.428
        assert!(answer.rule.contains("sans plafond par choix de la ville"));
    }

    #[test]
    fn missing_resources_use_the_ceiling_only_when_the_caller_says_so() {
        let input = PsuInput {
            declared_resources: None,
            children: 1,
            aeeh_children: 0,
            date: day("2025-10-15"),
            care: Collective,
        };
        let figures = psu_figures(&bareme(), &input, PsuCeiling::Cnaf).unwrap();
        assert_eq!(figures.resources_used, Cents::from_euros(8_500));
        assert!(figures.to_string().contains("ressources non renseignées"));
        assert!(psu_figures(&bareme(), &input, PsuCeiling::Uncapped).is_err());
    }

    #[test]
    fn refuses_dates_outside_the_barème_and_impossible_households() {
        let before = psu_hourly_rate(
            &bareme(),
            &request("3000", 1, 0, "2019-08-31", Collective),
            PsuCeiling::Cnaf,
        );
        assert_eq!(
            before,
            Err(PricingError::NoBaremeInForce {
                date: day("2019-08-31")
            })
        );
        let after = psu_hourly_rate(
            &bareme(),
            &request("3000", 1, 0, "2027-01-01", Collective),
            PsuCeiling::Cnaf,
        );
        assert!(matches!(after, Err(PricingError::NoBaremeInForce { .. })));
        let no_child = psu_hourly_rate(
            &bareme(),
            &request("3000", 0, 0, "2025-10-15", Collective),
            PsuCeiling::Cnaf,
        );
        assert_eq!(no_child, Err(PricingError::NoDependentChild));
        let too_many_aeeh = psu_hourly_rate(
            &bareme(),
            &request("3000", 1, 2, "2025-10-15", Collective),
            PsuCeiling::Cnaf,
        );
        assert!(matches!(
            too_many_aeeh,
            Err(PricingError::AeehExceedsChildren { .. })
        ));
        let negative = psu_hourly_rate(
            &bareme(),
            &request("-1", 1, 0, "2025-10-15", Collective),
            PsuCeiling::Cnaf,
        );
        assert!(matches!(negative, Err(PricingError::NegativeIncome { .. })));
    }

    #[test]
    fn the_shipped_barème_covers_every_day_from_2019_09_to_2026() {
        let bareme = bareme();
        let mut day = day("2019-09-01");
        while day <= "2026-12-31".parse().unwrap() {
            for care in [Collective, Familial, Parental, Micro] {
                let input = PsuInput {
                    declared_resources: Some(Cents::from_euros(3000)),
                    children: 1,
                    aeeh_children: 0,
                    date: day,
                    care,
                };
                assert!(
                    psu_figures(&bareme, &input, PsuCeiling::Cnaf).is_ok(),
                    "{day} {care:?}"
                );
            }
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn validation_refuses_broken_tables() {
        let broken = SHIPPED_BAREME_TOML.replacen("rate = \"0.0619\"", "rate = \"0.0000\"", 1);
        assert!(Bareme::from_toml_str(&broken).is_err());
        let rising = SHIPPED_BAREME_TOML.replacen("rate = \"0.0516\"", "rate = \"0.0700\"", 1);
        assert!(Bareme::from_toml_str(&rising).is_err());
        let overlapping = SHIPPED_BAREME_TOML.replacen(
            "valid_to = \"2019-12-31\"",
            "valid_to = \"2020-01-01\"",
            1,
        );
        assert!(matches!(
            Bareme::from_toml_str(&overlapping),
            Err(ConfigError::OverlappingPeriods { .. })
        ));
        let float = SHIPPED_BAREME_TOML.replacen("rate = \"0.0619\"", "rate = 0.0619", 1);
        assert!(matches!(
            Bareme::from_toml_str(&float),
            Err(ConfigError::Toml(_))
        ));
    }
}
