//! The catalogue of a city's settings: keys, French labels, defaults, validation. The
//! storage, history and export live in `platform::settings`.

use serde_json::Value;

use crate::platform::settings::{Catalogue, SettingDef, SettingKind};

pub static CATALOGUE: Catalogue = Catalogue(DEFINITIONS);

static DEFINITIONS: &[SettingDef] = &[
    text(
        "portal.welcome_message",
        "message d'accueil du portail famille",
        "Bienvenue sur votre portail famille : inscriptions, réservations, factures et paiements en ligne.",
    ),
    text(
        "portal.contact_hours",
        "horaires d'accueil du public",
        "Accueil du lundi au vendredi, de 8 h 30 à 12 h et de 13 h 30 à 17 h.",
    ),
    flag(
        "portal.account_requests_enabled",
        "demandes de compte en ligne ouvertes",
        true,
    ),
    text(
        "mail.sender_name",
        "nom de l'expéditeur des courriels",
        "Service enfance",
    ),
    number(
        "documents.max_size_mb",
        "taille maximale d'une pièce (Mo)",
        10,
        1,
        50,
    ),
    number(
        "documents.max_count",
        "nombre maximal de pièces par famille",
        50,
        1,
        500,
    ),
    number(
        "documents.expiry_warning_days",
        "alerte avant la fin de validité d'une pièce (jours)",
        30,
        1,
        365,
    ),
    flag(
        "security.local_accounts_enabled",
        "comptes locaux des agents autorisés",
        true,
    ),
    number(
        "security.session_idle_minutes",
        "déconnexion après inactivité (minutes)",
        30,
        5,
        480,
    ),
    number(
        "security.session_absolute_hours",
        "durée maximale d'une session (heures)",
        10,
        1,
        24,
    ),
    number(
        "security.password_min_length",
        "longueur minimale des mots de passe",
        12,
        8,
        64,
    ),
    flag(
        "sso.agents.enabled",
        "connexion des agents par le fournisseur d'identité",
        false,
    ),
    text(
        "sso.agents.label",
        "libellé du bouton de connexion unique",
        "Se connecter avec le compte SITIV",
    ),
    url(
        "sso.agents.issuer",
        "adresse (issuer) du fournisseur d'identité des agents",
    ),
    text(
        "sso.agents.client_id",
        "identifiant client OpenID Connect des agents",
        "",
    ),
    secret(
        "sso.agents.client_secret",
        "secret client OpenID Connect des agents",
    ),
    text(
        "sso.agents.scopes",
        "portées demandées pour les agents",
        "openid profile email",
    ),
    flag(
        "sso.agents.auto_create",
        "création des agents à leur première connexion (sans droits)",
        false,
    ),
    flag(
        "sso.families.enabled",
        "connexion des familles par FranceConnect",
        false,
    ),
    url("sso.families.issuer", "adresse (issuer) de FranceConnect"),
    text(
        "sso.families.client_id",
        "identifiant client FranceConnect",
        "",
    ),
    secret("sso.families.client_secret", "secret client FranceConnect"),
    text(
        "sso.families.scopes",
        "portées demandées à FranceConnect",
        "openid given_name family_name birthdate email",
    ),
    text(
        "sso.families.acr",
        "niveau d'authentification exigé (acr)",
        "eidas1",
    ),
    choice(
        "calendar.zone",
        "zone de vacances scolaires",
        "A",
        &[("A", "zone A"), ("B", "zone B"), ("C", "zone C")],
    ),
    text(
        "territory.city_towns",
        "communes dont les habitants sont résidents (séparées par des virgules ; vide : la ville elle-même)",
        "",
    ),
    text(
        "territory.intercommunality_towns",
        "communes de l'intercommunalité (séparées par des virgules)",
        "",
    ),
    choice(
        "attendance.late_cancellation",
        "une annulation hors délai devient",
        "absent_unjustified",
        &[
            ("absent_unjustified", "une absence injustifiée"),
            ("absent_justified", "une absence justifiée"),
            ("cancelled_late", "une annulation tardive"),
        ],
    ),
    text(
        "canteen.meal_choices",
        "choix de repas proposés (séparés par des virgules)",
        "Standard, Sans porc, Sans viande, Végétarien, Panier repas (PAI)",
    ),
    flag(
        "portal.waitlist_position_visible",
        "les familles voient leur rang en liste d'attente",
        true,
    ),
    crate::domain::tariffs::PRICING_SETTING,
    crate::domain::tariffs::GRID_SETTING,
    crate::domain::tariffs::AIDS_SETTING,
    crate::domain::tariffs::ASSIGNMENT_SETTING,
];

const fn def(key: &'static str, label: &'static str, kind: SettingKind) -> SettingDef {
    SettingDef { key, label, kind }
}

const fn text(key: &'static str, label: &'static str, default: &'static str) -> SettingDef {
    def(key, label, SettingKind::Text(default))
}

const fn flag(key: &'static str, label: &'static str, default: bool) -> SettingDef {
    def(key, label, SettingKind::Flag(default))
}

const fn number(
    key: &'static str,
    label: &'static str,
    default: i64,
    min: i64,
    max: i64,
) -> SettingDef {
    def(key, label, SettingKind::Number(default, min, max))
}

const fn url(key: &'static str, label: &'static str) -> SettingDef {
    def(key, label, SettingKind::Url)
}

const fn choice(
    key: &'static str,
    label: &'static str,
    default: &'static str,
    options: &'static [(&'static str, &'static str)],
) -> SettingDef {
    def(key, label, SettingKind::Choice(default, options))
}

const fn secret(key: &'static str, label: &'static str) -> SettingDef {
    def(key, label, SettingKind::Secret)
}

/// Every setting in force on `day` in the current city.
pub async fn in_force(
    conn: &mut crate::platform::db::Conn,
    day: chrono::NaiveDate,
) -> crate::platform::error::AppResult<std::collections::BTreeMap<String, Value>> {
    crate::platform::settings::in_force(conn, &CATALOGUE, day).await
}
