//! The small forms of the activity page, each read into what the catalogue stores.

use super::*;

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct GeneralForm {
    pub(super) name: String,
    pub(super) structure_id: String,
    pub(super) description: String,
    pub(super) when_full: String,
    pub(super) late_absence: String,
    pub(super) offer_hours: String,
    pub(super) requires_enrolment: Option<String>,
    pub(super) meal_choice: Option<String>,
    pub(super) active: Option<String>,
    pub(super) required_documents: Vec<String>,
    pub(super) required_facts: Vec<String>,
}

impl GeneralForm {
    pub(super) fn of(patch: &ActivityPatch) -> GeneralForm {
        GeneralForm {
            name: patch.name.clone(),
            structure_id: patch
                .structure_id
                .map(|s| s.to_string())
                .unwrap_or_default(),
            description: patch.description.clone(),
            when_full: patch.when_full.clone(),
            late_absence: patch.late_absence.clone().unwrap_or_default(),
            offer_hours: patch.offer_hours.to_string(),
            requires_enrolment: checked(patch.requires_enrolment),
            meal_choice: checked(patch.meal_choice),
            active: checked(patch.active),
            required_documents: patch.required_documents.clone(),
            required_facts: patch.required_facts.clone(),
        }
    }

    pub(super) fn patch(self) -> AppResult<ActivityPatch> {
        Ok(ActivityPatch {
            structure_id: number(&self.structure_id, "la structure")?,
            offer_hours: needed(
                number(&self.offer_hours, "le délai de réponse")?,
                "le délai de réponse à une place proposée",
            )?,
            late_absence: some(&self.late_absence),
            requires_enrolment: self.requires_enrolment.is_some(),
            meal_choice: self.meal_choice.is_some(),
            active: self.active.is_some(),
            name: self.name,
            description: self.description,
            when_full: self.when_full,
            required_documents: self.required_documents,
            required_facts: self.required_facts,
        })
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct UnitForm {
    pub(super) code: String,
    pub(super) label: String,
    pub(super) starts: String,
    pub(super) ends: String,
    pub(super) hourly: Option<String>,
    pub(super) includes: Vec<String>,
    pub(super) excludes: Vec<String>,
    pub(super) requires: Vec<String>,
}

impl UnitForm {
    pub(super) fn of(unit: &model::Unit) -> UnitForm {
        UnitForm {
            code: unit.code.clone(),
            label: unit.label.clone(),
            starts: hm(unit.starts),
            ends: hm(unit.ends),
            hourly: checked(unit.hourly),
            includes: unit.includes.clone(),
            excludes: unit.excludes.clone(),
            requires: unit.requires.clone(),
        }
    }

    pub(super) fn input(self) -> AppResult<UnitInput> {
        Ok(UnitInput {
            starts: needed(time(&self.starts, "l'heure de début")?, "l'heure de début")?,
            ends: needed(time(&self.ends, "l'heure de fin")?, "l'heure de fin")?,
            hourly: self.hourly.is_some(),
            code: self.code,
            label: self.label,
            includes: self.includes,
            excludes: self.excludes,
            requires: self.requires,
        })
    }

    /// The other units, each with whether this form includes, excludes or requires it.
    pub(super) fn others(&self, units: &[model::Unit], except: Option<i64>) -> Vec<Value> {
        let has = |list: &[String], code: &str| list.iter().any(|c| c == code);
        units
            .iter()
            .filter(|u| Some(u.id) != except)
            .map(|u| {
                json!({
                    "code": u.code, "label": u.label,
                    "includes": has(&self.includes, &u.code),
                    "excludes": has(&self.excludes, &u.code),
                    "requires": has(&self.requires, &u.code),
                })
            })
            .collect()
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct GroupForm {
    pub(super) name: String,
    pub(super) min_age_months: String,
    pub(super) max_age_months: String,
    pub(super) children_per_staff: String,
    pub(super) levels: Vec<String>,
}

impl GroupForm {
    pub(super) fn of(group: &model::Group) -> GroupForm {
        let text = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
        GroupForm {
            name: group.name.clone(),
            min_age_months: text(group.min_age_months),
            max_age_months: text(group.max_age_months),
            children_per_staff: text(group.children_per_staff),
            levels: group.levels.clone(),
        }
    }

    pub(super) fn input(self) -> AppResult<GroupInput> {
        Ok(GroupInput {
            min_age_months: number(&self.min_age_months, "l'âge minimum")?,
            max_age_months: number(&self.max_age_months, "l'âge maximum")?,
            children_per_staff: number(&self.children_per_staff, "le taux d'encadrement")?,
            name: self.name,
            levels: self.levels,
        })
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct CapacityForm {
    /// permanent or punctual.
    pub(super) kind: String,
    pub(super) group_id: String,
    pub(super) unit_id: String,
    pub(super) day: String,
    pub(super) valid_from: String,
    pub(super) valid_to: String,
    pub(super) places: String,
    pub(super) reason: String,
}

impl CapacityForm {
    pub(super) fn input(self) -> AppResult<NewCapacity> {
        let punctual = self.kind == "punctual";
        let only = day(&self.day, "le jour")?;
        let valid_from = day(&self.valid_from, "la date de début")?;
        Ok(NewCapacity {
            group_id: number(&self.group_id, "le groupe")?,
            unit_id: number(&self.unit_id, "l'unité")?,
            day: if punctual {
                Some(needed(only, "le jour de la capacité ponctuelle")?)
            } else {
                None
            },
            valid_from: if punctual {
                only.unwrap_or_default()
            } else {
                needed(valid_from, "la date de début")?
            },
            valid_to: day(&self.valid_to, "la date de fin")?,
            places: needed(
                number(&self.places, "le nombre de places")?,
                "le nombre de places",
            )?,
            reason: self.reason,
        })
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct EndForm {
    pub(super) valid_to: String,
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct OpeningForm {
    pub(super) rule: String,
    pub(super) weekdays: Vec<String>,
    pub(super) holidays: Vec<String>,
    pub(super) from: String,
    pub(super) to: String,
    pub(super) date: String,
    pub(super) label: String,
}

impl OpeningForm {
    pub(super) fn rule(self) -> AppResult<OpeningRule> {
        let days = weekdays(&self.weekdays)?;
        let label = some(&self.label);
        Ok(match self.rule.as_str() {
            "school_days" => OpeningRule::SchoolDays { weekdays: days },
            "wednesdays" => OpeningRule::Wednesdays,
            "holidays" => OpeningRule::Holidays {
                weekdays: days,
                kinds: self
                    .holidays
                    .iter()
                    .map(|code| {
                        HOLIDAY_KINDS
                            .iter()
                            .find(|(_, c)| c == code)
                            .map(|(k, _)| *k)
                            .ok_or_else(|| {
                                AppError::invalid(format!("vacances inconnues « {code} »"))
                            })
                    })
                    .collect::<AppResult<_>>()?,
            },
            "weekdays" => OpeningRule::Weekdays { weekdays: days },
            "closure" => OpeningRule::Closure {
                from: needed(
                    day(&self.from, "le début de la fermeture")?,
                    "le début de la fermeture",
                )?,
                to: needed(
                    day(&self.to, "la fin de la fermeture")?,
                    "la fin de la fermeture",
                )?,
                label,
            },
            "exceptional_opening" => OpeningRule::ExceptionalOpening {
                date: needed(
                    day(&self.date, "le jour d'ouverture exceptionnelle")?,
                    "le jour d'ouverture exceptionnelle",
                )?,
                label,
            },
            other => {
                return Err(AppError::invalid(format!(
                    "type de règle d'ouverture inconnu « {other} »"
                )));
            }
        })
    }
}

pub(super) const OPENING_KINDS: &[(&str, &str)] = &[
    ("school_days", "Jours d'école (hors vacances scolaires)"),
    ("wednesdays", "Mercredis (hors vacances scolaires)"),
    ("holidays", "Vacances scolaires"),
    ("weekdays", "Certains jours, toute l'année"),
    ("closure", "Fermeture"),
    ("exceptional_opening", "Ouverture exceptionnelle"),
];

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct NoticeForm {
    /// booking or cancel.
    pub(super) which: String,
    pub(super) none: Option<String>,
    pub(super) amount: String,
    /// days or hours.
    pub(super) unit: String,
    /// calendar or working.
    pub(super) count: String,
    pub(super) excluded: Vec<String>,
    pub(super) cutoff: String,
}

impl NoticeForm {
    pub(super) fn of(which: &str, rule: Option<&NoticeRule>) -> NoticeForm {
        let Some(rule) = rule else {
            return NoticeForm {
                which: which.into(),
                none: checked(true),
                unit: "days".into(),
                count: "calendar".into(),
                ..NoticeForm::default()
            };
        };
        let (count, excluded) = match &rule.count {
            DayCount::CalendarDays => ("calendar", vec![]),
            DayCount::WorkingDays { excluded_weekdays } => ("working", excluded_weekdays.clone()),
        };
        NoticeForm {
            which: which.into(),
            none: None,
            amount: rule.amount.to_string(),
            unit: if rule.unit == NoticeUnit::Hours {
                "hours"
            } else {
                "days"
            }
            .into(),
            count: count.into(),
            excluded: WEEKDAYS
                .iter()
                .filter(|(w, ..)| excluded.contains(w))
                .map(|(_, code, _)| code.to_string())
                .collect(),
            cutoff: rule.cutoff_time.map(hm).unwrap_or_default(),
        }
    }

    pub(super) fn which(&self) -> AppResult<Notice> {
        match self.which.as_str() {
            "booking" => Ok(Notice::Booking),
            "cancel" => Ok(Notice::Cancel),
            other => Err(AppError::invalid(format!("délai inconnu « {other} »"))),
        }
    }

    pub(super) fn rule(self) -> AppResult<Option<NoticeRule>> {
        if self.none.is_some() {
            return Ok(None);
        }
        let what = "le délai (un nombre entier, 0 ou plus)";
        Ok(Some(NoticeRule {
            amount: needed(number(&self.amount, what)?, what)?,
            unit: match self.unit.as_str() {
                "hours" => NoticeUnit::Hours,
                "days" => NoticeUnit::Days,
                other => {
                    return Err(AppError::invalid(format!(
                        "unité de délai inconnue « {other} »"
                    )));
                }
            },
            count: match self.count.as_str() {
                "working" => DayCount::WorkingDays {
                    excluded_weekdays: weekdays(&self.excluded)?,
                },
                "calendar" => DayCount::CalendarDays,
                other => return Err(AppError::invalid(format!("décompte inconnu « {other} »"))),
            },
            cutoff_time: time(&self.cutoff, "l'heure limite")?,
        }))
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct PeriodForm {
    pub(super) label: String,
    pub(super) opens_at: String,
    pub(super) closes_at: String,
    pub(super) residents_only: Option<String>,
    pub(super) min_age_months: String,
    pub(super) max_age_months: String,
    pub(super) levels: Vec<String>,
    pub(super) school_ids: Vec<String>,
    pub(super) qf_max: String,
}

impl PeriodForm {
    pub(super) fn input(self) -> AppResult<NewPeriod> {
        Ok(NewPeriod {
            opens_at: needed(instant(&self.opens_at, "l'ouverture")?, "l'ouverture")?,
            closes_at: needed(instant(&self.closes_at, "la fermeture")?, "la fermeture")?,
            population: Population {
                residents_only: self.residents_only.is_some(),
                min_age_months: number(&self.min_age_months, "l'âge minimum")?,
                max_age_months: number(&self.max_age_months, "l'âge maximum")?,
                school_ids: self
                    .school_ids
                    .iter()
                    .filter_map(|s| number(s, "l'école").transpose())
                    .collect::<AppResult<_>>()?,
                levels: self.levels,
                qf_max: number(&self.qf_max, "le plafond de quotient familial")?,
            },
            label: self.label,
        })
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(super) struct CriterionForm {
    pub(super) kind: String,
    pub(super) threshold: String,
    pub(super) school_id: String,
    pub(super) weight: String,
}

impl CriterionForm {
    pub(super) fn input(self) -> AppResult<Criterion> {
        Ok(Criterion {
            parameter: match self.kind.as_str() {
                "qf_at_most" => self.threshold,
                "school" => self.school_id,
                _ => String::new(),
            },
            weight: needed(number(&self.weight, "le poids")?, "le poids")?,
            kind: self.kind,
        })
    }
}
