//! Who may register, and when (ACT-06), pure: each registration period of an activity opens
//! for a population (residents only, an age band, some schools or levels, a QF ceiling).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The population a registration period is open to. Empty: everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    #[serde(default)]
    pub residents_only: bool,
    #[serde(default)]
    pub min_age_months: Option<i32>,
    #[serde(default)]
    pub max_age_months: Option<i32>,
    /// Children schooled in one of these schools.
    #[serde(default)]
    pub school_ids: Vec<i64>,
    /// Children in one of these levels (PS … CM2).
    #[serde(default)]
    pub levels: Vec<String>,
    /// Families whose quotient familial (euros) is at most this.
    #[serde(default)]
    pub qf_max: Option<i64>,
}

/// What the rules look at for one child on the activity's start date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidate {
    pub age_months: Option<i32>,
    pub resident: bool,
    pub school_id: Option<i64>,
    pub level: Option<String>,
    /// Euros per month.
    pub family_quotient: Option<i64>,
}

impl Population {
    /// `Ok` when the candidate belongs to the population, else the French reason.
    pub fn admits(&self, candidate: &Candidate) -> Result<(), String> {
        if self.residents_only && !candidate.resident {
            return Err("réservé aux familles résidant dans la commune".into());
        }
        if let Some(min) = self.min_age_months {
            match candidate.age_months {
                Some(age) if age >= min => {}
                _ => return Err(format!("réservé aux enfants d'au moins {}", months_fr(min))),
            }
        }
        if let Some(max) = self.max_age_months {
            match candidate.age_months {
                Some(age) if age <= max => {}
                _ => return Err(format!("réservé aux enfants de {} au plus", months_fr(max))),
            }
        }
        if !self.school_ids.is_empty()
            && !candidate
                .school_id
                .is_some_and(|s| self.school_ids.contains(&s))
        {
            return Err("réservé aux élèves de certaines écoles".into());
        }
        if !self.levels.is_empty()
            && !candidate
                .level
                .as_ref()
                .is_some_and(|l| self.levels.contains(l))
        {
            return Err(format!("réservé aux niveaux {}", self.levels.join(", ")));
        }
        if let Some(ceiling) = self.qf_max {
            match candidate.family_quotient {
                Some(qf) if qf <= ceiling => {}
                Some(_) => {
                    return Err(format!(
                        "réservé aux familles dont le quotient familial ne dépasse pas {ceiling} €"
                    ));
                }
                None => {
                    return Err(
                        "réservé sous condition de quotient familial : fournissez-le d'abord"
                            .into(),
                    );
                }
            }
        }
        Ok(())
    }

    /// A short French description, for the screens.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.residents_only {
            parts.push("résidents".to_string());
        }
        match (self.min_age_months, self.max_age_months) {
            (Some(min), Some(max)) => {
                parts.push(format!("de {} à {}", months_fr(min), months_fr(max)))
            }
            (Some(min), None) => parts.push(format!("à partir de {}", months_fr(min))),
            (None, Some(max)) => parts.push(format!("jusqu'à {}", months_fr(max))),
            (None, None) => {}
        }
        if !self.levels.is_empty() {
            parts.push(format!("niveaux {}", self.levels.join(", ")));
        }
        if !self.school_ids.is_empty() {
            parts.push(format!("{} école(s)", self.school_ids.len()));
        }
        if let Some(qf) = self.qf_max {
            parts.push(format!("QF ≤ {qf} €"));
        }
        if parts.is_empty() {
            "tout public".into()
        } else {
            parts.join(", ")
        }
    }
}

fn months_fr(months: i32) -> String {
    if months % 12 == 0 {
        let years = months / 12;
        format!("{years} an{}", if years > 1 { "s" } else { "" })
    } else {
        format!("{months} mois")
    }
}

/// A registration period as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub id: i64,
    pub label: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub population: Population,
}

/// The period through which the candidate may register at `now`, or the French reason why
/// not (none open now, or open to others only; the next opening is named).
pub fn open_period<'a>(
    periods: &'a [Period],
    now: DateTime<Utc>,
    candidate: &Candidate,
) -> Result<&'a Period, String> {
    if periods.is_empty() {
        return Err("aucune période d'inscription n'est définie pour cette activité".into());
    }
    let open: Vec<&Period> = periods
        .iter()
        .filter(|p| p.opens_at <= now && now < p.closes_at)
        .collect();
    if let Some(period) = open.iter().find(|p| p.population.admits(candidate).is_ok()) {
        return Ok(period);
    }
    if let Some(period) = open.first() {
        let reason = period.population.admits(candidate).unwrap_err();
        return Err(format!("les inscriptions ouvertes sont {reason}"));
    }
    let next = periods
        .iter()
        .filter(|p| p.opens_at > now && p.population.admits(candidate).is_ok())
        .min_by_key(|p| p.opens_at);
    Err(match next {
        Some(p) => format!(
            "les inscriptions ouvriront le {}",
            p.opens_at
                .with_timezone(&chrono_tz::Europe::Paris)
                .format("%d/%m/%Y à %H:%M")
        ),
        None => "les inscriptions sont closes".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn child() -> Candidate {
        Candidate {
            age_months: Some(80),
            resident: true,
            school_id: Some(3),
            level: Some("CP".into()),
            family_quotient: Some(640),
        }
    }

    #[test]
    fn an_empty_population_admits_everyone() {
        assert_eq!(Population::default().admits(&Candidate::default()), Ok(()));
        assert_eq!(Population::default().describe(), "tout public");
    }

    #[test]
    fn each_criterion_refuses_with_its_reason() {
        let residents = Population {
            residents_only: true,
            ..Default::default()
        };
        let outsider = Candidate {
            resident: false,
            ..child()
        };
        assert!(
            residents
                .admits(&outsider)
                .unwrap_err()
                .contains("résidant")
        );
        let small = Population {
            max_age_months: Some(71),
            ..Default::default()
        };
        assert_eq!(
            small.admits(&child()).unwrap_err(),
            "réservé aux enfants de 71 mois au plus"
        );
        let qf = Population {
            qf_max: Some(600),
            ..Default::default()
        };
        assert!(qf.admits(&child()).unwrap_err().contains("600 €"));
        let unknown_qf = Candidate {
            family_quotient: None,
            ..child()
        };
        assert!(
            qf.admits(&unknown_qf)
                .unwrap_err()
                .contains("fournissez-le")
        );
        let levels = Population {
            levels: vec!["CE1".into()],
            ..Default::default()
        };
        assert!(levels.admits(&child()).is_err());
        let schools = Population {
            school_ids: vec![3, 4],
            ..Default::default()
        };
        assert_eq!(schools.admits(&child()), Ok(()));
    }

    #[test]
    fn the_period_open_to_the_child_is_found_and_others_explained() {
        let periods = vec![
            Period {
                id: 1,
                label: "Résidents".into(),
                opens_at: at("2026-05-01T06:00:00Z"),
                closes_at: at("2026-05-15T22:00:00Z"),
                population: Population {
                    residents_only: true,
                    ..Default::default()
                },
            },
            Period {
                id: 2,
                label: "Tous".into(),
                opens_at: at("2026-05-16T06:00:00Z"),
                closes_at: at("2026-06-15T22:00:00Z"),
                population: Population::default(),
            },
        ];
        let resident = child();
        let outsider = Candidate {
            resident: false,
            ..child()
        };
        assert_eq!(
            open_period(&periods, at("2026-05-02T10:00:00Z"), &resident)
                .unwrap()
                .id,
            1
        );
        let refused = open_period(&periods, at("2026-05-02T10:00:00Z"), &outsider).unwrap_err();
        assert!(refused.contains("résidant"), "{refused}");
        assert_eq!(
            open_period(&periods, at("2026-05-20T10:00:00Z"), &outsider)
                .unwrap()
                .id,
            2
        );
        let early = open_period(&periods, at("2026-04-20T10:00:00Z"), &outsider).unwrap_err();
        assert_eq!(early, "les inscriptions ouvriront le 16/05/2026 à 08:00");
        let late = open_period(&periods, at("2026-07-01T10:00:00Z"), &resident).unwrap_err();
        assert_eq!(late, "les inscriptions sont closes");
    }
}
