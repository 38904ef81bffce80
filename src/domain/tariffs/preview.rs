//! "What would this family pay?": one consumption priced with a grid, told in one sentence
//! (« Une famille avec un QF de 742 € et deux enfants à charge paie 3,84 € pour l'unité
//! « repas » (Cantine) le 12/01/2026, règle : tranche QF 3 ») followed by the engine's own
//! explanation of every line. Pure.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;

use crate::domain::money::Cents;
use crate::domain::pricing::{
    AttendanceState, Bareme, Consumption, FamilySituation, LineBasis, PriceBasis, PricedLine,
    PricingContext, PricingError, PricingSettings, Residence, TariffGrid, price,
};

/// The hypothetical family and consumption of a preview.
#[derive(Debug, Clone)]
pub struct PreviewRequest {
    pub activity_name: String,
    pub unit: String,
    pub date: NaiveDate,
    pub family_quotient: Option<Cents>,
    pub monthly_resources: Option<Cents>,
    pub dependent_children: u8,
    pub aeeh_children: u8,
    pub residence: Residence,
    pub sibling_rank: u8,
    pub options: BTreeSet<String>,
    pub tariff: Option<String>,
    pub arrival: Option<NaiveTime>,
    pub departure: Option<NaiveTime>,
    pub closing_time: Option<NaiveTime>,
    pub state: AttendanceState,
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviewLine {
    pub rule_id: String,
    pub explanation: String,
    pub amount: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub sentence: String,
    pub lines: Vec<PreviewLine>,
    pub total: String,
}

pub fn preview(
    grid: &TariffGrid,
    settings: &PricingSettings,
    bareme: &Bareme,
    request: &PreviewRequest,
) -> Result<Preview, PricingError> {
    let consumption = Consumption {
        child_id: 0,
        activity: grid.activity.to_string(),
        unit: request.unit.clone(),
        date: request.date,
        arrival: request.arrival,
        departure: request.departure,
        closing_time: request.closing_time,
        state: request.state,
        billable: true,
        tariff: request.tariff.clone(),
    };
    let situation = FamilySituation {
        family_quotient: request.family_quotient,
        monthly_resources: request.monthly_resources,
        dependent_children: request.dependent_children,
        aeeh_children: request.aeeh_children,
        residence: request.residence,
        options: request.options.clone(),
        sibling_rank: request.sibling_rank,
    };
    let context = PricingContext { settings, bareme };
    let lines = price(&consumption, &situation, grid, &context)?;
    let total: Cents = lines.iter().map(|l| l.amount).sum();
    Ok(Preview {
        sentence: sentence(grid, request, &lines, total),
        lines: lines
            .iter()
            .map(|line| PreviewLine {
                rule_id: line.rule_id.to_string(),
                explanation: line.explanation(),
                amount: line.amount.to_string(),
            })
            .collect(),
        total: total.to_string(),
    })
}

fn sentence(
    grid: &TariffGrid,
    request: &PreviewRequest,
    lines: &[PricedLine],
    total: Cents,
) -> String {
    let mut family = Vec::new();
    match request.family_quotient {
        Some(qf) if qf.0 % 100 == 0 => family.push(format!("un QF de {}\u{a0}€", qf.0 / 100)),
        Some(qf) => family.push(format!("un QF de {qf}")),
        None => family.push("un QF non renseigné".to_string()),
    }
    if let Some(resources) = request.monthly_resources {
        family.push(format!("des ressources mensuelles de {resources}"));
    }
    family.push(children_fr(request.dependent_children));
    let family = match family.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} et {last}", rest.join(", ")),
        None => String::new(),
    };
    let date = request.date.format("%d/%m/%Y");
    let unit = grid.unit_label(&request.unit);
    if lines.is_empty() {
        return format!(
            "Une famille avec {family} ne paie rien pour l'unité « {unit} » ({}) le {date} : cet état de présence n'est pas facturé.",
            request.activity_name
        );
    }
    let rule = lines.first().map(rule_fr).unwrap_or_default();
    format!(
        "Une famille avec {family} paie {total} pour l'unité « {unit} » ({}) le {date}, règle : {rule}.",
        request.activity_name
    )
}

/// « tranche QF 3 (cantine-qf-3) », « tarif unique (repas) »…
fn rule_fr(line: &PricedLine) -> String {
    let kind = match &line.basis {
        LineBasis::Base { price, .. } => match price {
            PriceBasis::QfBracket { rank, .. } => format!("tranche QF {rank}"),
            PriceBasis::Flat { .. } => "tarif unique".to_string(),
            PriceBasis::EffortRate { .. } => "taux d'effort".to_string(),
            PriceBasis::Psu(_) => "barème PSU de la CNAF".to_string(),
        },
        LineBasis::Surcharge { label, .. } => label.to_string(),
        LineBasis::Overtime { .. } => "dépassement".to_string(),
        LineBasis::Aid { label, .. } => label.to_string(),
    };
    format!("{kind} ({})", line.rule_id)
}

/// « aucun enfant à charge », « un enfant à charge », « deux enfants à charge », « 12 enfants… ».
pub fn children_fr(count: u8) -> String {
    const WORDS: [&str; 11] = [
        "aucun", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix",
    ];
    let number = WORDS
        .get(usize::from(count))
        .map_or_else(|| count.to_string(), |w| (*w).to_string());
    if count < 2 {
        format!("{number} enfant à charge")
    } else {
        format!("{number} enfants à charge")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cantine() -> TariffGrid {
        TariffGrid::from_toml_str(
            r#"
            activity = "cantine"
            unit_labels = { repas = "repas" }
            [[versions]]
            valid_from = "2025-09-01"
            rules = [ { id = "cantine-qf", price = { kind = "qf_brackets", brackets = [
                { id = "cantine-qf-1", min = "0", max = "400", amount = "1.00" },
                { id = "cantine-qf-2", min = "401", max = "700", amount = "2.50" },
                { id = "cantine-qf-3", min = "701", max = "900", amount = "3.84" },
                { id = "cantine-qf-4", min = "901", amount = "4.90" },
            ] } } ]
            "#,
        )
        .unwrap()
    }

    fn request() -> PreviewRequest {
        PreviewRequest {
            activity_name: "Cantine".into(),
            unit: "repas".into(),
            date: "2026-01-12".parse().unwrap(),
            family_quotient: Some(Cents::from_euros(742)),
            monthly_resources: None,
            dependent_children: 2,
            aeeh_children: 0,
            residence: Residence::City,
            sibling_rank: 1,
            options: BTreeSet::new(),
            tariff: None,
            arrival: None,
            departure: None,
            closing_time: None,
            state: AttendanceState::Present,
        }
    }

    #[test]
    fn the_issue_example() {
        let bareme = Bareme::shipped().unwrap();
        let preview =
            preview(&cantine(), &PricingSettings::default(), &bareme, &request()).unwrap();
        assert_eq!(
            preview.sentence,
            "Une famille avec un QF de 742\u{a0}€ et deux enfants à charge paie 3,84\u{a0}€ pour l'unité « repas » (Cantine) le 12/01/2026, règle : tranche QF 3 (cantine-qf-3)."
        );
        assert_eq!(preview.lines.len(), 1);
        assert!(preview.lines[0].explanation.contains("tranche 3"));
        assert_eq!(preview.total, "3,84\u{a0}€");
    }

    #[test]
    fn errors_are_the_engines() {
        let bareme = Bareme::shipped().unwrap();
        let mut early = request();
        early.date = "2025-08-31".parse().unwrap();
        let error = preview(&cantine(), &PricingSettings::default(), &bareme, &early).unwrap_err();
        assert!(error.to_string().contains("aucune grille"), "{error}");
        let mut no_qf = request();
        no_qf.family_quotient = None;
        let error = preview(&cantine(), &PricingSettings::default(), &bareme, &no_qf).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("quotient familial non renseigné")
        );
    }

    #[test]
    fn children_in_words() {
        assert_eq!(children_fr(0), "aucun enfant à charge");
        assert_eq!(children_fr(1), "un enfant à charge");
        assert_eq!(children_fr(2), "deux enfants à charge");
        assert_eq!(children_fr(12), "12 enfants à charge");
    }
}
