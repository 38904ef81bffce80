//! Quantities: one unit, or a duration counted in steps; and overtime past closing.
//!
//! Times are counted in whole minutes (seconds, if any, are ignored: attendance is recorded to
//! the minute).

use chrono::NaiveTime;
use rust_decimal::Decimal;

use super::error::PricingError;
use super::explain::{DurationLimit, LineBasis, QuantityBasis};
use super::model::Consumption;
use super::rules::{OvertimeRule, PricedPer, QuantityRule, StepRounding, TariffRule};

/// A counted quantity and how it was counted.
pub(crate) struct Counted {
    /// Units, hours or steps (see `basis`).
    pub quantity: Decimal,
    pub basis: QuantityBasis,
}

impl Counted {
    /// `unit_price × quantity`, exact. A per-hour duration is priced from its minutes
    /// (`price × minutes / 60`, dividing last) so that 50 minutes are not first turned into a
    /// truncated 0.8333… hour.
    pub fn extend(&self, unit_price: Decimal) -> Result<Decimal, PricingError> {
        let product = match self.basis {
            QuantityBasis::Duration {
                per: PricedPer::Hour,
                charged_minutes,
                ..
            } => unit_price
                .checked_mul(Decimal::from(charged_minutes))
                .and_then(|p| p.checked_div(Decimal::from(60))),
            _ => unit_price.checked_mul(self.quantity),
        };
        product.ok_or(PricingError::Overflow)
    }
}

pub(crate) fn count_quantity(
    rule: &TariffRule,
    consumption: &Consumption,
) -> Result<Counted, PricingError> {
    match &rule.quantity {
        QuantityRule::PerUnit => Ok(Counted {
            quantity: Decimal::ONE,
            basis: QuantityBasis::Unit,
        }),
        QuantityRule::Duration {
            step_minutes,
            rounding,
            per,
            min_minutes,
            max_minutes,
        } => {
            let (arrival, departure) = times(rule, consumption)?;
            let counted_until = match (&rule.overtime, consumption.closing_time) {
                // The time after closing is billed by the overtime line only.
                (Some(_), Some(closing)) => departure.min(closing).max(arrival),
                _ => departure,
            };
            let actual_minutes = minutes_between(arrival, counted_until);
            let steps = count_steps(actual_minutes, *step_minutes, *rounding);
            let rounded_minutes = steps * u32::from(*step_minutes);
            let (charged_minutes, limit) =
                limit_minutes(rounded_minutes, *min_minutes, *max_minutes);
            let quantity = match per {
                PricedPer::Hour => Decimal::from(charged_minutes) / Decimal::from(60),
                PricedPer::Step => Decimal::from(charged_minutes / u32::from(*step_minutes)),
            };
            Ok(Counted {
                quantity,
                basis: QuantityBasis::Duration {
                    arrival,
                    counted_until,
                    actual_minutes,
                    charged_minutes,
                    step_minutes: *step_minutes,
                    rounding: *rounding,
                    per: *per,
                    limit,
                },
            })
        }
    }
}

/// Steps of overtime past closing, with their figures; `None` when there is none to bill (no
/// overtime rule, no departure yet, left before closing or within the grace period).
pub(crate) fn count_overtime(
    rule: &TariffRule,
    consumption: &Consumption,
) -> Result<Option<(u32, LineBasis)>, PricingError> {
    let (Some(overtime), Some(departure)) = (&rule.overtime, consumption.departure) else {
        return Ok(None);
    };
    let closing = consumption
        .closing_time
        .ok_or_else(|| PricingError::MissingClosingTime {
            rule_id: rule.id.to_string(),
        })?;
    let overtime_minutes = minutes_between(closing, departure.max(closing));
    if overtime_minutes == 0 || overtime_minutes <= u32::from(overtime.grace_minutes) {
        return Ok(None);
    }
    let OvertimeRule {
        step_minutes,
        rounding,
        grace_minutes,
        ..
    } = *overtime;
    let steps = count_steps(overtime_minutes, step_minutes, rounding);
    if steps == 0 {
        return Ok(None);
    }
    Ok(Some((
        steps,
        LineBasis::Overtime {
            closing,
            departure,
            overtime_minutes,
            grace_minutes,
            step_minutes,
            rounding,
        },
    )))
}

fn times(
    rule: &TariffRule,
    consumption: &Consumption,
) -> Result<(NaiveTime, NaiveTime), PricingError> {
    let (Some(arrival), Some(departure)) = (consumption.arrival, consumption.departure) else {
        return Err(PricingError::MissingTimes {
            rule_id: rule.id.to_string(),
        });
    };
    if departure < arrival {
        return Err(PricingError::DepartureBeforeArrival { arrival, departure });
    }
    Ok((arrival, departure))
}

/// Whole minutes from `start` to `end` (`end >= start`).
fn minutes_between(start: NaiveTime, end: NaiveTime) -> u32 {
    u32::try_from((end - start).num_minutes()).unwrap_or(0)
}

fn count_steps(minutes: u32, step_minutes: u16, rounding: StepRounding) -> u32 {
    let step = u32::from(step_minutes).max(1);
    match rounding {
        StepRounding::Up => minutes.div_ceil(step),
        StepRounding::Down => minutes / step,
        StepRounding::Nearest => (2 * minutes + step) / (2 * step),
    }
}

fn limit_minutes(minutes: u32, min: Option<u16>, max: Option<u16>) -> (u32, Option<DurationLimit>) {
    match (min, max) {
        (Some(min), _) if minutes < u32::from(min) => {
            (u32::from(min), Some(DurationLimit::Minimum(min)))
        }
        (_, Some(max)) if minutes > u32::from(max) => {
            (u32::from(max), Some(DurationLimit::Maximum(max)))
        }
        _ => (minutes, None),
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::AttendanceState;
    use super::super::rules::PriceSource;
    use super::*;

    fn time(text: &str) -> NaiveTime {
        text.parse().unwrap()
    }

    fn rule(quantity: QuantityRule, overtime: Option<OvertimeRule>) -> TariffRule {
        TariffRule {
            id: "garderie".into(),
            when: Default::default(),
            price: PriceSource::Flat {
                amount: super::super::Cents(100),
            },
            quantity,
            overtime,
        }
    }

    fn duration(
        step: u16,
        rounding: StepRounding,
        per: PricedPer,
        min: Option<u16>,
        max: Option<u16>,
    ) -> QuantityRule {
        QuantityRule::Duration {
            step_minutes: step,
            rounding,
            per,
            min_minutes: min,
            max_minutes: max,
        }
    }

    fn consumption(
        arrival: Option<&str>,
        departure: Option<&str>,
        closing: Option<&str>,
    ) -> Consumption {
        Consumption {
            child_id: 1,
            activity: "garderie".to_owned(),
            unit: "soir".to_owned(),
            date: "2025-10-06".parse().unwrap(),
            arrival: arrival.map(time),
            departure: departure.map(time),
            closing_time: closing.map(time),
            state: AttendanceState::Present,
            billable: true,
            tariff: None,
        }
    }

    fn charged(rule: &TariffRule, arrival: &str, departure: &str) -> (Decimal, u32) {
        let counted =
            count_quantity(rule, &consumption(Some(arrival), Some(departure), None)).unwrap();
        let QuantityBasis::Duration {
            charged_minutes, ..
        } = counted.basis
        else {
            panic!("a duration was expected")
        };
        (counted.quantity, charged_minutes)
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn counts_started_half_hours() {
        let r = rule(
            duration(30, StepRounding::Up, PricedPer::Hour, None, None),
            None,
        );
        assert_eq!(charged(&r, "16:30", "17:00"), (dec("0.5"), 30));
        assert_eq!(charged(&r, "16:30", "17:01"), (dec("1"), 60));
        assert_eq!(charged(&r, "16:30", "16:30"), (dec("0"), 0));
        assert_eq!(charged(&r, "16:30", "18:52"), (dec("2.5"), 150));
    }

    #[test]
    fn counts_nearest_and_complete_steps() {
        let nearest = rule(
            duration(30, StepRounding::Nearest, PricedPer::Hour, None, None),
            None,
        );
        assert_eq!(charged(&nearest, "16:30", "16:44"), (dec("0"), 0));
        assert_eq!(charged(&nearest, "16:30", "16:45"), (dec("0.5"), 30));
        let down = rule(
            duration(30, StepRounding::Down, PricedPer::Hour, None, None),
            None,
        );
        assert_eq!(charged(&down, "16:30", "17:29"), (dec("0.5"), 30));
    }

    #[test]
    fn holds_the_duration_between_minimum_and_maximum() {
        let r = rule(
            duration(15, StepRounding::Up, PricedPer::Step, Some(60), Some(120)),
            None,
        );
        assert_eq!(charged(&r, "08:00", "08:10"), (dec("4"), 60));
        assert_eq!(charged(&r, "08:00", "09:30"), (dec("6"), 90));
        assert_eq!(charged(&r, "08:00", "12:00"), (dec("8"), 120));
    }

    #[test]
    fn prices_per_hour_from_minutes() {
        let r = rule(
            duration(10, StepRounding::Up, PricedPer::Hour, None, None),
            None,
        );
        let counted = count_quantity(&r, &consumption(Some("08:00"), Some("08:50"), None)).unwrap();
        // 1.548 €/h × 50 min = 1.29 € exactly, whereas 1.548 × 0.8333… would not be.
        assert_eq!(counted.extend(dec("1.548")), Ok(dec("1.29")));
    }

    #[test]
    fn needs_consistent_times() {
        let r = rule(
            duration(30, StepRounding::Up, PricedPer::Hour, None, None),
            None,
        );
        assert!(matches!(
            count_quantity(&r, &consumption(Some("08:00"), None, None)),
            Err(PricingError::MissingTimes { .. })
        ));
        assert!(matches!(
            count_quantity(&r, &consumption(Some("09:00"), Some("08:00"), None)),
            Err(PricingError::DepartureBeforeArrival { .. })
        ));
        let per_unit = rule(QuantityRule::PerUnit, None);
        assert!(count_quantity(&per_unit, &consumption(None, None, None)).is_ok());
    }

    fn overtime_rule(step: u16, grace: u16) -> OvertimeRule {
        OvertimeRule {
            id: "depassement".into(),
            amount: super::super::Cents(500),
            step_minutes: step,
            rounding: StepRounding::Up,
            grace_minutes: grace,
        }
    }

    #[test]
    fn overtime_is_counted_past_closing_beyond_the_grace_period() {
        let r = rule(QuantityRule::PerUnit, Some(overtime_rule(15, 5)));
        let steps = |departure: &str| {
            count_overtime(
                &r,
                &consumption(Some("16:30"), Some(departure), Some("18:30")),
            )
            .unwrap()
            .map(|(steps, _)| steps)
        };
        assert_eq!(steps("18:30"), None);
        assert_eq!(steps("18:00"), None);
        assert_eq!(steps("18:35"), None); // within the 5-minute grace period
        assert_eq!(steps("18:36"), Some(1)); // beyond it, the whole 6 minutes count
        assert_eq!(steps("18:45"), Some(1));
        assert_eq!(steps("18:46"), Some(2));
    }

    #[test]
    fn overtime_needs_the_closing_time_once_the_child_has_left() {
        let r = rule(QuantityRule::PerUnit, Some(overtime_rule(15, 0)));
        assert!(matches!(
            count_overtime(&r, &consumption(Some("16:30"), Some("18:40"), None)),
            Err(PricingError::MissingClosingTime { .. })
        ));
        assert_eq!(count_overtime(&r, &consumption(None, None, None)), Ok(None));
    }

    #[test]
    fn with_overtime_the_base_duration_stops_at_closing() {
        let r = rule(
            duration(30, StepRounding::Up, PricedPer::Hour, None, None),
            Some(overtime_rule(15, 0)),
        );
        let counted = count_quantity(
            &r,
            &consumption(Some("16:30"), Some("18:52"), Some("18:30")),
        )
        .unwrap();
        assert_eq!(counted.quantity, dec("2"));
        let late_arrival = count_quantity(
            &r,
            &consumption(Some("18:40"), Some("18:50"), Some("18:30")),
        )
        .unwrap();
        assert_eq!(late_arrival.quantity, dec("0"));
    }
}
