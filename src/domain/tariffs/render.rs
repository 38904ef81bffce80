//! A tariff grid in plain French, for the editor page: one block per version, one sentence per
//! rule, adjustment and surcharge, so an agent can check the TOML against the délibération.

use serde::Serialize;

use crate::domain::money::Cents;
use crate::domain::pricing::{
    AdjustmentEffect, Criteria, IncomeBase, PriceSource, PricedPer, QuantityRule, StepRounding,
    SurchargeCharge, TariffGrid, TariffRule, euros_compact,
};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VersionView {
    /// « du 01/09/2025 au 31/08/2026 », « à partir du 01/09/2026 ».
    pub period: String,
    pub billed_states: Option<String>,
    pub rules: Vec<String>,
    pub adjustments: Vec<String>,
    pub surcharges: Vec<String>,
}

/// The versions of `grid`, the latest first.
pub fn describe(grid: &TariffGrid) -> Vec<VersionView> {
    let mut versions: Vec<_> = grid.versions.iter().collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.valid_from));
    versions
        .into_iter()
        .map(|version| VersionView {
            period: match version.valid_to {
                Some(to) => format!(
                    "du {} au {}",
                    version.valid_from.format("%d/%m/%Y"),
                    to.format("%d/%m/%Y")
                ),
                None => format!("à partir du {}", version.valid_from.format("%d/%m/%Y")),
            },
            billed_states: version.billed_states.as_ref().map(|states| {
                states
                    .iter()
                    .map(|s| s.label_fr())
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
            rules: version
                .rules
                .iter()
                .map(|rule| describe_rule(grid, rule))
                .collect(),
            adjustments: version
                .adjustments
                .iter()
                .map(|a| {
                    format!(
                        "« {} » ({}), {} : {}",
                        a.label,
                        a.id,
                        condition(&a.when),
                        effect_fr(a.effect)
                    )
                })
                .collect(),
            surcharges: version
                .surcharges
                .iter()
                .map(|s| {
                    let charge = match s.charge {
                        SurchargeCharge::Fixed(amount) => format!("{amount} par prestation"),
                        SurchargeCharge::PercentOfBase(p) => format!("{p} du prix de base"),
                    };
                    format!(
                        "« {} » ({}), {} : {charge}",
                        s.label,
                        s.id,
                        condition(&s.when)
                    )
                })
                .collect(),
        })
        .collect()
}

fn condition(when: &Criteria) -> String {
    let text = when.describe_fr();
    if text == "sans condition" {
        "pour tous".to_string()
    } else {
        format!("si {text}")
    }
}

fn describe_rule(grid: &TariffGrid, rule: &TariffRule) -> String {
    let mut text = format!("Règle « {} », {} : ", rule.id, condition(&rule.when));
    text.push_str(&price_fr(&rule.price));
    text.push_str(" ; ");
    text.push_str(&quantity_fr(&rule.quantity));
    if let Some(overtime) = &rule.overtime {
        text.push_str(&format!(
            " ; dépassement après la fermeture (« {} ») : {} par pas de {} min, {}{}",
            overtime.id,
            overtime.amount,
            overtime.step_minutes,
            rounding_fr(overtime.rounding),
            if overtime.grace_minutes > 0 {
                format!(", tolérance de {} min", overtime.grace_minutes)
            } else {
                String::new()
            }
        ));
    }
    if !rule.when.units.is_empty() {
        let labels: Vec<String> = rule
            .when
            .units
            .iter()
            .map(|u| format!("{} = « {} »", u, grid.unit_label(u)))
            .collect();
        text.push_str(&format!(" (unités : {})", labels.join(", ")));
    }
    text
}

fn price_fr(price: &PriceSource) -> String {
    match price {
        PriceSource::Flat { amount } => format!("tarif unique de {amount}"),
        PriceSource::QfBrackets { brackets } => {
            let parts: Vec<String> = brackets
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let bounds = match b.max {
                        Some(max) => {
                            format!("de {} à {}", euros_compact(b.min), euros_compact(max))
                        }
                        None => format!("à partir de {}", euros_compact(b.min)),
                    };
                    format!("tranche {} ({}, QF {bounds}) : {}", i + 1, b.id, b.amount)
                })
                .collect();
            format!("selon le quotient familial — {}", parts.join(" ; "))
        }
        PriceSource::EffortRate(rule) => {
            let base = match rule.base {
                IncomeBase::Qf => "du quotient familial",
                IncomeBase::MonthlyResources => "des ressources mensuelles",
            };
            let mut text = format!("taux d'effort de {} {base}", rule.rate);
            if rule.adjustment != Cents::ZERO {
                text.push_str(&format!(", ajusté de {}", rule.adjustment));
            }
            if let Some(floor) = rule.floor {
                text.push_str(&format!(", au moins {floor}"));
            }
            if let Some(ceiling) = rule.ceiling {
                text.push_str(&format!(", au plus {ceiling}"));
            }
            text
        }
        PriceSource::Psu { care } => format!(
            "barème PSU de la CNAF en vigueur le jour ({}), prix horaire",
            care.label_fr()
        ),
    }
}

fn quantity_fr(quantity: &QuantityRule) -> String {
    match quantity {
        QuantityRule::PerUnit => "à l'unité".to_string(),
        QuantityRule::Duration {
            step_minutes,
            rounding,
            per,
            min_minutes,
            max_minutes,
        } => {
            let per = match per {
                PricedPer::Hour => "prix par heure",
                PricedPer::Step => "prix par pas",
            };
            let mut text = format!(
                "à la durée par pas de {step_minutes} min ({}), {per}",
                rounding_fr(*rounding)
            );
            if let Some(min) = min_minutes {
                text.push_str(&format!(", au moins {min} min facturées"));
            }
            if let Some(max) = max_minutes {
                text.push_str(&format!(", au plus {max} min facturées"));
            }
            text
        }
    }
}

fn rounding_fr(rounding: StepRounding) -> &'static str {
    match rounding {
        StepRounding::Up => "tout pas entamé est dû",
        StepRounding::Nearest => "arrondi au pas le plus proche",
        StepRounding::Down => "seuls les pas complets comptent",
    }
}

fn effect_fr(effect: AdjustmentEffect) -> String {
    match effect {
        AdjustmentEffect::Percent(p) if p.0.is_sign_negative() => format!("{p} sur le prix"),
        AdjustmentEffect::Percent(p) => format!("+{p} sur le prix"),
        AdjustmentEffect::Amount(a) if a.is_negative() => format!("{a} par unité"),
        AdjustmentEffect::Amount(a) => format!("+{a} par unité"),
        AdjustmentEffect::SetPrice(a) => format!("prix ramené à {a}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_grid_in_french() {
        let grid = TariffGrid::from_toml_str(
            r#"
            activity = "cantine"
            unit_labels = { repas = "repas" }
            [[versions]]
            valid_from = "2025-09-01"
            rules = [ { id = "cantine-qf", when = { units = ["repas"] }, price = { kind = "qf_brackets", brackets = [
                { id = "cantine-qf-1", min = "0", max = "700", amount = "1.20" },
                { id = "cantine-qf-2", min = "701", amount = "3.84" },
            ] } } ]
            adjustments = [ { id = "hors-commune", label = "Majoration hors commune", when = { residences = ["outside_city"] }, effect = { percent = "20" } } ]
            surcharges = [ { id = "sans-resa", label = "Repas non réservé", when = { states = ["present_unbooked"] }, charge = { fixed = "2.00" } } ]
            [[versions]]
            valid_from = "2024-09-01"
            valid_to = "2025-08-31"
            rules = [ { id = "repas", price = { kind = "flat", amount = "3.50" } } ]
            "#,
        )
        .unwrap();
        let views = describe(&grid);
        assert_eq!(views[0].period, "à partir du 01/09/2025");
        assert_eq!(views[1].period, "du 01/09/2024 au 31/08/2025");
        let rule = &views[0].rules[0];
        assert!(
            rule.contains("tranche 2 (cantine-qf-2, QF à partir de 701\u{a0}€) : 3,84\u{a0}€"),
            "{rule}"
        );
        assert!(rule.contains("QF de 0\u{a0}€ à 700\u{a0}€"), "{rule}");
        assert!(rule.contains("à l'unité"), "{rule}");
        assert!(views[0].adjustments[0].contains("+20\u{a0}% sur le prix"));
        assert!(views[0].surcharges[0].contains("2,00\u{a0}€ par prestation"));
        assert!(views[1].rules[0].contains("pour tous : tarif unique de 3,50\u{a0}€"));
    }
}
