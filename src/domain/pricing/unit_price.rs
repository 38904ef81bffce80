//! The base unit price of a rule: flat, QF bracket, effort rate or PSU.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::Cents;
use super::error::PricingError;
use super::explain::{BracketChoice, PriceBasis, PriceLimit};
use super::model::FamilySituation;
use super::psu::{Bareme, CareType, PsuInput, psu_figures};
use super::rules::{EffortRateRule, IncomeBase, PriceSource, QfBracket};
use super::settings::{MissingQf, MissingResources, PricingSettings, QfGap};

/// What a unit price may depend on besides the rule.
pub(crate) struct PriceInputs<'a> {
    pub rule_id: &'a str,
    pub situation: &'a FamilySituation,
    pub date: NaiveDate,
    pub settings: &'a PricingSettings,
    pub bareme: &'a Bareme,
}

pub(crate) fn base_price(
    source: &PriceSource,
    inputs: &PriceInputs,
) -> Result<PriceBasis, PricingError> {
    match source {
        PriceSource::Flat { amount } => Ok(PriceBasis::Flat {
            price: amount.to_decimal(),
        }),
        PriceSource::QfBrackets { brackets } => qf_bracket_price(brackets, inputs),
        PriceSource::EffortRate(rule) => effort_rate_price(rule, inputs),
        PriceSource::Psu { care } => psu_price(*care, inputs),
    }
}

fn qf_bracket_price(
    brackets: &[QfBracket],
    inputs: &PriceInputs,
) -> Result<PriceBasis, PricingError> {
    let (index, choice) = match inputs.situation.family_quotient {
        Some(qf) => find_bracket(brackets, non_negative(qf, "quotient familial")?, inputs)?,
        None => bracket_for_missing_qf(brackets, inputs)?,
    };
    let bracket = &brackets[index];
    Ok(PriceBasis::QfBracket {
        qf: inputs.situation.family_quotient,
        rank: index + 1,
        min: bracket.min,
        max: bracket.max,
        choice,
        price: bracket.amount.to_decimal(),
    })
}

/// The bracket whose inclusive bounds hold `qf`; a QF in a gap (or beyond every bracket) is
/// attached as the city's `qf_gap` setting says, or refused.
fn find_bracket(
    brackets: &[QfBracket],
    qf: Cents,
    inputs: &PriceInputs,
) -> Result<(usize, BracketChoice), PricingError> {
    let contains = |b: &QfBracket| b.min <= qf && b.max.is_none_or(|max| qf <= max);
    if let Some(index) = brackets.iter().position(contains) {
        return Ok((index, BracketChoice::Contains));
    }
    let attached = match inputs.settings.qf_gap {
        QfGap::Refuse => None,
        QfGap::LowerBracket => brackets
            .iter()
            .rposition(|b| b.max.is_some_and(|max| max < qf))
            .map(|index| (index, BracketChoice::GapToLower)),
        QfGap::UpperBracket => brackets
            .iter()
            .position(|b| qf < b.min)
            .map(|index| (index, BracketChoice::GapToUpper)),
    };
    attached.ok_or_else(|| PricingError::QfOutsideBrackets {
        rule_id: inputs.rule_id.to_owned(),
        qf,
    })
}

fn bracket_for_missing_qf(
    brackets: &[QfBracket],
    inputs: &PriceInputs,
) -> Result<(usize, BracketChoice), PricingError> {
    let misconfigured = |reason: String| PricingError::Misconfigured {
        rule_id: inputs.rule_id.to_owned(),
        reason,
    };
    match inputs.settings.missing_qf {
        MissingQf::Refuse => Err(PricingError::MissingQf {
            rule_id: inputs.rule_id.to_owned(),
        }),
        MissingQf::DearestBracket => {
            // The highest price; on a tie, the highest bracket (the usual reading of "dearest").
            let dearest = brackets
                .iter()
                .enumerate()
                .max_by_key(|(index, b)| (b.amount, *index))
                .map(|(index, _)| index)
                .ok_or_else(|| misconfigured("aucune tranche".to_owned()))?;
            Ok((dearest, BracketChoice::MissingQfDearest))
        }
        MissingQf::Bracket(rank) => {
            let index = usize::from(rank)
                .checked_sub(1)
                .filter(|i| *i < brackets.len());
            let index = index.ok_or_else(|| {
                misconfigured(format!(
                    "la tranche {rank} prévue pour un QF non renseigné n'existe pas ({} tranches)",
                    brackets.len()
                ))
            })?;
            Ok((index, BracketChoice::MissingQfGiven))
        }
    }
}

/// `clamp(income × rate + adjustment, floor, ceiling)`; a missing income prices at the ceiling
/// only when the city chose "dearest".
fn effort_rate_price(
    rule: &EffortRateRule,
    inputs: &PriceInputs,
) -> Result<PriceBasis, PricingError> {
    let Some(income) = effort_rate_income(rule.base, inputs)? else {
        let ceiling = rule.ceiling.ok_or_else(|| PricingError::Misconfigured {
            rule_id: inputs.rule_id.to_owned(),
            reason: "la ville applique le tarif le plus cher aux revenus non renseignés, mais cette règle n'a pas de prix plafond".to_owned(),
        })?;
        return Ok(PriceBasis::EffortRate {
            base: rule.base,
            income: None,
            rate: rule.rate,
            adjustment: rule.adjustment,
            computed: ceiling.to_decimal(),
            limit: None,
            price: ceiling.to_decimal(),
        });
    };
    let computed = rule
        .rate
        .of(income.to_decimal())?
        .checked_add(rule.adjustment.to_decimal())
        .ok_or(PricingError::Overflow)?;
    let (price, limit) = clamp_price(computed, rule.floor, rule.ceiling);
    Ok(PriceBasis::EffortRate {
        base: rule.base,
        income: Some(income),
        rate: rule.rate,
        adjustment: rule.adjustment,
        computed,
        limit,
        price,
    })
}

/// `Some(income)`, or `None` when it is missing and the city prices missing incomes at the
/// dearest; an error when the city refuses.
fn effort_rate_income(
    base: IncomeBase,
    inputs: &PriceInputs,
) -> Result<Option<Cents>, PricingError> {
    let rule_id = || inputs.rule_id.to_owned();
    match base {
        IncomeBase::Qf => match (inputs.situation.family_quotient, inputs.settings.missing_qf) {
            (Some(qf), _) => non_negative(qf, "quotient familial").map(Some),
            (None, MissingQf::Refuse) => Err(PricingError::MissingQf { rule_id: rule_id() }),
            (None, MissingQf::DearestBracket) => Ok(None),
            (None, MissingQf::Bracket(_)) => Err(PricingError::Misconfigured {
                rule_id: rule_id(),
                reason: "une tranche est prévue pour un QF non renseigné, mais cette règle est au taux d'effort, sans tranches".to_owned(),
            }),
        },
        IncomeBase::MonthlyResources => match resources_or_policy(inputs)? {
            Some(resources) => non_negative(resources, "ressources mensuelles").map(Some),
            None => Ok(None),
        },
    }
}

/// `Some(resources)`, `None` for "missing, price at the dearest", or the refusal.
fn resources_or_policy(inputs: &PriceInputs) -> Result<Option<Cents>, PricingError> {
    match (
        inputs.situation.monthly_resources,
        inputs.settings.missing_resources,
    ) {
        (Some(resources), _) => Ok(Some(resources)),
        (None, MissingResources::Dearest) => Ok(None),
        (None, MissingResources::Refuse) => Err(PricingError::MissingResources {
            rule_id: inputs.rule_id.to_owned(),
        }),
    }
}

fn clamp_price(
    computed: Decimal,
    floor: Option<Cents>,
    ceiling: Option<Cents>,
) -> (Decimal, Option<PriceLimit>) {
    match (floor, ceiling) {
        (Some(floor), _) if computed < floor.to_decimal() => {
            (floor.to_decimal(), Some(PriceLimit::Floor(floor)))
        }
        (_, Some(ceiling)) if computed > ceiling.to_decimal() => {
            (ceiling.to_decimal(), Some(PriceLimit::Ceiling(ceiling)))
        }
        _ => (computed, None),
    }
}

fn psu_price(care: CareType, inputs: &PriceInputs) -> Result<PriceBasis, PricingError> {
    let situation = inputs.situation;
    let input = PsuInput {
        declared_resources: resources_or_policy(inputs)?,
        children: situation.dependent_children,
        aeeh_children: situation.aeeh_children,
        date: inputs.date,
        care,
    };
    let figures = psu_figures(inputs.bareme, &input, inputs.settings.psu_ceiling)?;
    Ok(PriceBasis::Psu(figures))
}

fn non_negative(income: Cents, what: &'static str) -> Result<Cents, PricingError> {
    if income.is_negative() {
        Err(PricingError::NegativeIncome {
            what,
            value: income,
        })
    } else {
        Ok(income)
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::Residence;
    use super::super::percent::Percent;
    use super::*;

    fn situation(qf: Option<i64>, resources: Option<i64>) -> FamilySituation {
        FamilySituation {
            family_quotient: qf.map(Cents::from_euros),
            monthly_resources: resources.map(Cents::from_euros),
            dependent_children: 1,
            aeeh_children: 0,
            residence: Residence::City,
            options: Default::default(),
            sibling_rank: 1,
        }
    }

    fn price_of(
        source: &PriceSource,
        situation: &FamilySituation,
        settings: &PricingSettings,
    ) -> Result<PriceBasis, PricingError> {
        let bareme = Bareme::shipped().unwrap();
        let inputs = PriceInputs {
            rule_id: "regle",
            situation,
            date: "2025-10-15".parse().unwrap(),
            settings,
            bareme: &bareme,
        };
        base_price(source, &inputs)
    }

    fn on_resources() -> PriceSource {
        PriceSource::EffortRate(EffortRateRule {
            base: IncomeBase::MonthlyResources,
            rate: Percent("0.05".parse().unwrap()),
            adjustment: Cents(20),
            floor: Some(Cents(100)),
            ceiling: Some(Cents(400)),
        })
    }

    #[test]
    fn effort_rate_on_resources_with_an_adjustment() {
        let settings = PricingSettings::default();
        // 3 000 × 0.05 % = 1.50, + 0.20 = 1.70.
        let basis = price_of(&on_resources(), &situation(None, Some(3000)), &settings).unwrap();
        assert_eq!(basis.price(), "1.70".parse::<Decimal>().unwrap());
        // 1 000 × 0.05 % + 0.20 = 0.70 < 1.00: the floor.
        let basis = price_of(&on_resources(), &situation(None, Some(1000)), &settings).unwrap();
        assert_eq!(basis.price(), Decimal::ONE);
        assert!(matches!(
            basis,
            PriceBasis::EffortRate {
                limit: Some(PriceLimit::Floor(_)),
                ..
            }
        ));
    }

    #[test]
    fn effort_rate_on_missing_resources() {
        let refuse = PricingSettings::default();
        assert_eq!(
            price_of(&on_resources(), &situation(Some(700), None), &refuse),
            Err(PricingError::MissingResources {
                rule_id: "regle".to_owned()
            })
        );
        let dearest = PricingSettings {
            missing_resources: MissingResources::Dearest,
            ..PricingSettings::default()
        };
        let basis = price_of(&on_resources(), &situation(None, None), &dearest).unwrap();
        assert_eq!(basis.price(), Decimal::from(4));
        let PriceSource::EffortRate(mut uncapped) = on_resources() else {
            unreachable!()
        };
        uncapped.ceiling = None;
        assert!(matches!(
            price_of(
                &PriceSource::EffortRate(uncapped),
                &situation(None, None),
                &dearest
            ),
            Err(PricingError::Misconfigured { .. })
        ));
    }

    #[test]
    fn the_dearest_bracket_is_the_highest_price_not_the_last_bracket() {
        let bracket = |id: &str, min: i64, max: Option<i64>, euros: i64| QfBracket {
            id: id.into(),
            min: Cents::from_euros(min),
            max: max.map(Cents::from_euros),
            amount: Cents::from_euros(euros),
        };
        // A grid where the last bracket is cheaper (a "solidarity" top bracket, say).
        let brackets = PriceSource::QfBrackets {
            brackets: vec![
                bracket("t1", 0, Some(500), 1),
                bracket("t2", 501, Some(900), 5),
                bracket("t3", 901, None, 4),
            ],
        };
        let settings = PricingSettings {
            missing_qf: MissingQf::DearestBracket,
            ..PricingSettings::default()
        };
        let basis = price_of(&brackets, &situation(None, None), &settings).unwrap();
        assert!(matches!(
            basis,
            PriceBasis::QfBracket {
                rank: 2,
                choice: BracketChoice::MissingQfDearest,
                ..
            }
        ));
    }
}
