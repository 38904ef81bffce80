//! Money: integer cents, and the one rounding function of the product.
//!
//! Every amount a family pays is a [`Cents`]. Intermediate computations (a QF times an effort
//! rate, an hourly price times 1.5 hours) are done in [`Decimal`] and come back to cents
//! through [`round_half_up_to_cent`] only, so there is exactly one place where a fraction of a
//! cent is decided. Floats are never used.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of money in euro cents (may be negative: aids and credits).
///
/// Serialised as a decimal-euros string (`"3.84"`) so that JSON APIs and the TOML files cities
/// write read as euros, never as floats and never as ambiguous bare integers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cents(pub i64);

/// Why a string or a decimal could not become [`Cents`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error(
        "« {0} » n'est pas un montant en euros valide (attendu : chiffres, point décimal, au plus deux décimales, par exemple 3.84)"
    )]
    InvalidAmount(String),
    #[error("montant hors des limites représentables : {0} €")]
    OutOfRange(Decimal),
}

impl Cents {
    pub const ZERO: Cents = Cents(0);

    /// Whole euros, for readable tests and constants.
    pub const fn from_euros(euros: i64) -> Cents {
        Cents(euros * 100)
    }

    /// The exact value in euros (no rounding involved: cents are exact in a decimal).
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Decimal euros with a dot and two decimals, for APIs: `"3.84"`, `"-0.05"`, `"3000.00"`.
    pub fn to_decimal_euros(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// Parses decimal euros as written in APIs and configuration: an optional `-`, digits, and
    /// optionally a dot followed by one or two digits (`"3"`, `"3.8"`, `"3.84"`, `"-1.50"`).
    /// Anything else (commas, spaces, exponents, a third decimal) is refused rather than guessed.
    pub fn parse_euros(text: &str) -> Result<Cents, MoneyError> {
        let invalid = || MoneyError::InvalidAmount(text.to_owned());
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let fraction_ok = !unsigned.contains('.') || (1..=2).contains(&fraction.len());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || !fraction_ok {
            return Err(invalid());
        }
        let euros: i64 = whole.parse().map_err(|_| invalid())?;
        let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| invalid())?;
        let magnitude = euros
            .checked_mul(100)
            .and_then(|c| c.checked_add(cents))
            .ok_or_else(invalid)?;
        Ok(Cents(if negative { -magnitude } else { magnitude }))
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

/// THE rounding function: a decimal amount of euros to the nearest cent, half away from zero.
///
/// Half-up for positive amounts (1.545 € → 1.55 €, as the CNAF and French invoices do), and
/// symmetric for negative ones (-1.545 € → -1.55 €) so that a credit always mirrors the charge
/// it cancels: `round(-x) == -round(x)`. The only failure is an amount beyond ±92 million
/// billion euros, which no pricing input can produce but which we refuse instead of wrapping.
pub fn round_half_up_to_cent(euros: Decimal) -> Result<Cents, MoneyError> {
    let rounded = euros.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    // After rounding to 2 places the value is mantissa / 10^scale with scale <= 2; rescale to
    // exactly 2 so the mantissa *is* the number of cents.
    let scale_gap = 2 - rounded.scale().min(2);
    let cents = rounded
        .mantissa()
        .checked_mul(10_i128.pow(scale_gap))
        .and_then(|c| i64::try_from(c).ok())
        .ok_or(MoneyError::OutOfRange(euros))?;
    Ok(Cents(cents))
}

/// French display: `3,84 €`, `-0,05 €`, `3 000,00 €`, with no-break spaces (U+00A0) as the
/// thousands separator and before the euro sign, as French typography requires.
impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(
            f,
            "{sign}{},{:02}\u{a0}€",
            group_thousands(abs / 100),
            abs % 100
        )
    }
}

/// `1234567` → `1 234 567` (no-break spaces).
pub(crate) fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 * 2);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('\u{a0}');
        }
        grouped.push(digit);
    }
    grouped
}

impl FromStr for Cents {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cents::parse_euros(s)
    }
}

impl Serialize for Cents {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_decimal_euros())
    }
}

impl<'de> Deserialize<'de> for Cents {
    /// Only a string is accepted: a bare TOML/JSON number would be ambiguous (3 euros or 3
    /// cents?) and a float would already have lost precision.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Cents::parse_euros(&text).map_err(serde::de::Error::custom)
    }
}

impl Add for Cents {
    type Output = Cents;
    fn add(self, rhs: Cents) -> Cents {
        Cents(self.0 + rhs.0)
    }
}

impl Sub for Cents {
    type Output = Cents;
    fn sub(self, rhs: Cents) -> Cents {
        Cents(self.0 - rhs.0)
    }
}

impl Neg for Cents {
    type Output = Cents;
    fn neg(self) -> Cents {
        Cents(-self.0)
    }
}

impl AddAssign for Cents {
    fn add_assign(&mut self, rhs: Cents) {
        self.0 += rhs.0;
    }
}

impl SubAssign for Cents {
    fn sub_assign(&mut self, rhs: Cents) {
        self.0 -= rhs.0;
    }
}

impl Sum for Cents {
    fn sum<I: Iterator<Item = Cents>>(iter: I) -> Cents {
        iter.fold(Cents::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Cents> for Cents {
    fn sum<I: Iterator<Item = &'a Cents>>(iter: I) -> Cents {
        iter.copied().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn rounds_half_up_on_the_third_decimal() {
        assert_eq!(round_half_up_to_cent(dec("1.545")), Ok(Cents(155)));
        assert_eq!(round_half_up_to_cent(dec("1.544999")), Ok(Cents(154)));
        assert_eq!(round_half_up_to_cent(dec("1.548")), Ok(Cents(155)));
        assert_eq!(round_half_up_to_cent(dec("2.065")), Ok(Cents(207)));
        // Banker's rounding would give 0.02 here: we do not use it.
        assert_eq!(round_half_up_to_cent(dec("0.025")), Ok(Cents(3)));
    }

    #[test]
    fn rounds_negative_amounts_symmetrically() {
        assert_eq!(round_half_up_to_cent(dec("-1.545")), Ok(Cents(-155)));
        assert_eq!(round_half_up_to_cent(dec("-0.004")), Ok(Cents(0)));
        assert_eq!(round_half_up_to_cent(dec("-0.005")), Ok(Cents(-1)));
    }

    #[test]
    fn rounds_amounts_with_fewer_than_two_decimals() {
        assert_eq!(round_half_up_to_cent(dec("3")), Ok(Cents(300)));
        assert_eq!(round_half_up_to_cent(dec("3.8")), Ok(Cents(380)));
        assert_eq!(round_half_up_to_cent(Decimal::ZERO), Ok(Cents(0)));
    }

    #[test]
    fn refuses_amounts_beyond_i64_cents() {
        assert!(matches!(
            round_half_up_to_cent(Decimal::MAX),
            Err(MoneyError::OutOfRange(_))
        ));
    }

    #[test]
    fn displays_french_euros() {
        assert_eq!(Cents(384).to_string(), "3,84\u{a0}€");
        assert_eq!(Cents(-5).to_string(), "-0,05\u{a0}€");
        assert_eq!(Cents(300_000).to_string(), "3\u{a0}000,00\u{a0}€");
        assert_eq!(
            Cents(123_456_789).to_string(),
            "1\u{a0}234\u{a0}567,89\u{a0}€"
        );
        assert_eq!(Cents(0).to_string(), "0,00\u{a0}€");
    }

    #[test]
    fn formats_decimal_euros_for_apis() {
        assert_eq!(Cents(384).to_decimal_euros(), "3.84");
        assert_eq!(Cents(300_000).to_decimal_euros(), "3000.00");
        assert_eq!(Cents(-5).to_decimal_euros(), "-0.05");
        assert_eq!(Cents(i64::MIN).to_decimal_euros(), "-92233720368547758.08");
    }

    #[test]
    fn parses_decimal_euros_strictly() {
        assert_eq!(Cents::parse_euros("3.84"), Ok(Cents(384)));
        assert_eq!(Cents::parse_euros("3.8"), Ok(Cents(380)));
        assert_eq!(Cents::parse_euros("3"), Ok(Cents(300)));
        assert_eq!(Cents::parse_euros("-1.50"), Ok(Cents(-150)));
        assert_eq!(Cents::parse_euros("0.05"), Ok(Cents(5)));
        for bad in [
            "",
            "-",
            ".5",
            "3.",
            "3.845",
            "3,84",
            " 3",
            "1e3",
            "+3",
            "1_000",
            "3.-4",
            "--3",
            "99999999999999999999",
        ] {
            assert!(Cents::parse_euros(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn serde_uses_decimal_euro_strings_only() {
        #[derive(Deserialize, Serialize, Debug, PartialEq)]
        struct Price {
            price: Cents,
        }
        let parsed: Price = toml::from_str("price = \"3.84\"").unwrap();
        assert_eq!(parsed.price, Cents(384));
        assert!(toml::from_str::<Price>("price = 3.84").is_err());
        assert!(toml::from_str::<Price>("price = 3").is_err());
    }

    #[test]
    fn sums_and_negates() {
        let total: Cents = [Cents(100), Cents(-30), Cents(5)].iter().sum();
        assert_eq!(total, Cents(75));
        assert_eq!(-Cents(75), Cents(-75));
        assert_eq!(Cents(100) - Cents(30) + Cents(5), Cents(75));
    }

    proptest! {
        #[test]
        fn rounding_is_symmetric(mantissa in -10_000_000_000i64..10_000_000_000, scale in 0u32..8) {
            let x = Decimal::new(mantissa, scale);
            let up = round_half_up_to_cent(x).unwrap();
            let down = round_half_up_to_cent(-x).unwrap();
            prop_assert_eq!(down, -up);
        }

        #[test]
        fn rounding_is_within_half_a_cent(mantissa in -10_000_000_000i64..10_000_000_000, scale in 0u32..8) {
            let x = Decimal::new(mantissa, scale);
            let rounded = round_half_up_to_cent(x).unwrap().to_decimal();
            prop_assert!((rounded - x).abs() <= dec("0.005"));
        }

        #[test]
        fn rounding_is_monotonic(a in -1_000_000_000i64..1_000_000_000, b in -1_000_000_000i64..1_000_000_000) {
            let (x, y) = (Decimal::new(a.min(b), 4), Decimal::new(a.max(b), 4));
            prop_assert!(round_half_up_to_cent(x).unwrap() <= round_half_up_to_cent(y).unwrap());
        }

        #[test]
        fn decimal_euros_round_trip(cents in -1_000_000_000_000i64..1_000_000_000_000) {
            let text = Cents(cents).to_decimal_euros();
            prop_assert_eq!(Cents::parse_euros(&text), Ok(Cents(cents)));
        }
    }
}
