//! Errors of the pricing engine (runtime) and of the configuration it reads (load time).
//! Messages are French: they reach agents and, through the portal, families.

use chrono::{NaiveDate, NaiveTime};

use super::Cents;
use super::money::MoneyError;

/// Why a consumption (or a PSU rate, a tariff assignment) could not be priced.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PricingError {
    #[error("la grille de l'activité « {grid} » ne peut pas tarifer l'activité « {activity} »")]
    WrongGrid { grid: String, activity: String },

    #[error("aucune grille tarifaire de l'activité « {activity} » n'est en vigueur le {}", .date.format("%d/%m/%Y"))]
    NoGridInForce { activity: String, date: NaiveDate },

    #[error("aucune règle tarifaire de l'activité « {activity} » ne s'applique à l'unité « {unit} » le {} pour cette situation", .date.format("%d/%m/%Y"))]
    NoRuleApplies {
        activity: String,
        unit: String,
        date: NaiveDate,
    },

    #[error(
        "quotient familial non renseigné : la règle « {rule_id} » en a besoin et la ville n'a pas prévu de tarif par défaut"
    )]
    MissingQf { rule_id: String },

    #[error(
        "le QF {qf} ne tombe dans aucune tranche de la règle « {rule_id} » (trou ou dépassement du barème) et la ville n'a pas choisi de rattachement"
    )]
    QfOutsideBrackets { rule_id: String, qf: Cents },

    #[error(
        "ressources mensuelles non renseignées : la règle « {rule_id} » en a besoin et la ville n'a pas prévu de tarif par défaut"
    )]
    MissingResources { rule_id: String },

    #[error("{what} négatif ({value}) : donnée invalide")]
    NegativeIncome { what: &'static str, value: Cents },

    #[error(
        "heures d'arrivée et de départ nécessaires : la règle « {rule_id} » tarifie à la durée"
    )]
    MissingTimes { rule_id: String },

    #[error("heure de départ ({}) antérieure à l'heure d'arrivée ({})", .departure.format("%H:%M"), .arrival.format("%H:%M"))]
    DepartureBeforeArrival {
        arrival: NaiveTime,
        departure: NaiveTime,
    },

    #[error(
        "heure de fermeture non renseignée : les dépassements de la règle « {rule_id} » ne peuvent pas être calculés"
    )]
    MissingClosingTime { rule_id: String },

    #[error("aucun barème PSU de la CNAF n'est chargé pour le {} : SITIV doit publier le barème de cette période", .date.format("%d/%m/%Y"))]
    NoBaremeInForce { date: NaiveDate },

    #[error("le plafond de ressources configuré par la ville ({configured}) est inférieur au plafond CNAF en vigueur le {} ({cnaf}) : la CNAF ne permet pas de l'abaisser", .date.format("%d/%m/%Y"))]
    CityCeilingBelowCnaf {
        configured: Cents,
        cnaf: Cents,
        date: NaiveDate,
    },

    #[error("au moins un enfant à charge est nécessaire pour appliquer le barème PSU")]
    NoDependentChild,

    #[error(
        "le nombre d'enfants bénéficiaires de l'AEEH ({aeeh}) dépasse le nombre d'enfants à charge ({children})"
    )]
    AeehExceedsChildren { aeeh: u8, children: u8 },

    #[error("paramétrage incohérent de la règle « {rule_id} » : {reason}")]
    Misconfigured { rule_id: String, reason: String },

    #[error("aucun tarif ne peut être attribué automatiquement le {} : aucun critère de la ville ne correspond à cette situation", .date.format("%d/%m/%Y"))]
    NoTariffAssignable { date: NaiveDate },

    #[error("calcul impossible : {0}")]
    Amount(#[from] MoneyError),

    #[error("calcul impossible : montant hors des limites représentables")]
    Overflow,
}

/// Why a configuration (a tariff grid, the CNAF barème, aids) was refused at load time.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("fichier TOML illisible : {0}")]
    Toml(String),

    #[error("{what} : la période commençant le {} se termine avant de commencer ({})", .from.format("%d/%m/%Y"), .to.format("%d/%m/%Y"))]
    EndsBeforeStart {
        what: String,
        from: NaiveDate,
        to: NaiveDate,
    },

    #[error("{what} : les périodes commençant le {} et le {} se chevauchent", .first.format("%d/%m/%Y"), .second.format("%d/%m/%Y"))]
    OverlappingPeriods {
        what: String,
        first: NaiveDate,
        second: NaiveDate,
    },

    #[error("{what} : {reason}")]
    Invalid { what: String, reason: String },
}

impl ConfigError {
    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }
}
