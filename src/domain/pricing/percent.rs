//! Percentages as the texts print them, and strict decimal (de)serialisation.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::PricingError;

/// A percentage exactly as délibérations and CNAF tables print it: `Percent(0.0516)` is
/// 0.0516 %, so 3 000 € × 0.0516 % = 1.548 €. Keeping the printed figure (rather than the
/// fraction 0.000516) lets agents compare the configuration with the source text at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(pub Decimal);

impl Percent {
    /// `amount × self %`, exact (multiplying by 0.01 only shifts the decimal scale), without
    /// the trailing zeros the scales add up to (3.84 × -10 % is -0.384, not -0.3840).
    pub fn of(self, amount: Decimal) -> Result<Decimal, PricingError> {
        amount
            .checked_mul(self.0)
            .and_then(|product| product.checked_mul(Decimal::new(1, 2)))
            .map(|product| product.normalize())
            .ok_or(PricingError::Overflow)
    }

    pub fn is_positive(self) -> bool {
        self.0 > Decimal::ZERO
    }
}

/// French display with the figure as written: `0,0516 %`, `0,30 %`, `-10 %`.
impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\u{a0}%", self.0.to_string().replace('.', ","))
    }
}

/// A decimal with a French decimal comma and no trailing zeros: `1.50` → `1,5`.
pub(crate) fn decimal_fr(value: Decimal) -> String {
    value.normalize().to_string().replace('.', ",")
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        strict_decimal::serialize(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        strict_decimal::deserialize(deserializer).map(Percent)
    }
}

/// Decimals travel as strings only. rust_decimal's own deserialiser also accepts floats, and a
/// TOML `rate = 0.0516` would go through an `f64` first: refusing it keeps "never floats" true
/// from the file to the cent.
pub(crate) mod strict_decimal {
    use std::str::FromStr;

    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        rust_decimal::serde::str::serialize(value, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        let text = String::deserialize(deserializer)?;
        let valid = !text.is_empty()
            && text
                .bytes()
                .enumerate()
                .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && b == b'-'));
        if !valid {
            return Err(serde::de::Error::custom(format!(
                "« {text} » n'est pas un nombre décimal valide (attendu par exemple \"0.0516\")"
            )));
        }
        Decimal::from_str(&text).map_err(|error| {
            serde::de::Error::custom(format!(
                "« {text} » n'est pas un nombre décimal valide : {error}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Serialize, Debug)]
    struct Rate {
        rate: Percent,
    }

    #[test]
    fn applies_the_printed_percentage() {
        let rate = Percent("0.0516".parse().unwrap());
        assert_eq!(rate.of(Decimal::from(3000)), Ok("1.548".parse().unwrap()));
        assert_eq!(rate.to_string(), "0,0516\u{a0}%");
    }

    #[test]
    fn keeps_the_printed_scale_when_serialised() {
        let parsed: Rate = toml::from_str("rate = \"0.0516\"").unwrap();
        assert_eq!(
            toml::to_string(&parsed).unwrap().trim(),
            "rate = \"0.0516\""
        );
    }

    #[test]
    fn refuses_floats_and_odd_strings() {
        assert!(toml::from_str::<Rate>("rate = 0.0516").is_err());
        assert!(toml::from_str::<Rate>("rate = \"1_0\"").is_err());
        assert!(toml::from_str::<Rate>("rate = \"1e3\"").is_err());
        assert!(toml::from_str::<Rate>("rate = \"\"").is_err());
        assert!(toml::from_str::<Rate>("rate = \"-10\"").is_ok());
    }

    #[test]
    fn formats_french_decimals() {
        assert_eq!(decimal_fr("1.50".parse().unwrap()), "1,5");
        assert_eq!(decimal_fr("2".parse().unwrap()), "2");
    }
}
