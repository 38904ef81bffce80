//! The document in French: the domain's structs are documented in English for developers;
//! the API's readers get French descriptions instead.

/// Schemas written for the API, documented in French at the source.
const API_SCHEMAS: &[&str] = &[
    "ApiError",
    "HomonymsError",
    "FamilyList",
    "PersonList",
    "ChildList",
    "NewPerson",
    "Me",
    "PsuAnswer",
    "SimulationInput",
    "HypotheticalSituation",
    "WeekUnit",
    "SimulationAnswer",
    "SituationUsed",
    "SimulationLine",
    "AppliedAid",
    "ActivityList",
    "AvailabilityList",
    "NewBooking",
    "Waitlisted",
    "AttendanceInput",
    "BookingList",
    "BookingView",
    "Availability",
];

/// The domain's structs are documented in English for developers; the API's readers get
/// these French descriptions instead: (schema, property or "" for the schema, text).
const FRENCH: &[(&str, &str, &str)] = &[
    (
        "ActivitySummary",
        "",
        "Une activité : ses unités, ses groupes, et ce qu'elle fait quand elle est complète \
         (`when_full` : `greyed` grisée, `waitlist` liste d'attente).",
    ),
    (
        "ActivitySummary",
        "code",
        "Code de l'activité (clé de sa grille tarifaire).",
    ),
    (
        "Unit",
        "",
        "Une unité réservable (matin, repas, journée…) : horaires, unités incluses, \
         incompatibles ou requises.",
    ),
    (
        "Unit",
        "code",
        "Code de l'unité, à donner pour réserver : `matin`, `repas`, `journee`...",
    ),
    (
        "Group",
        "",
        "Un groupe d'enfants par âge (en mois) ou niveau scolaire, avec son taux \
         d'encadrement.",
    ),
    ("AddressInput", "", "Une adresse postale française."),
    ("AddressInput", "line1", "Numéro et voie (obligatoire)."),
    ("AddressInput", "line2", "Complément d'adresse."),
    (
        "AddressInput",
        "postal_code",
        "Code postal à 5 chiffres (obligatoire).",
    ),
    (
        "AddressInput",
        "town",
        "Commune (obligatoire), enregistrée en majuscules.",
    ),
    ("AddressView", "", "Une adresse du foyer, datée."),
    (
        "AddressView",
        "kind",
        "`residence` (résidence) ou `billing` (facturation).",
    ),
    (
        "AddressView",
        "valid_from",
        "Date à partir de laquelle l'adresse s'applique.",
    ),
    (
        "AddressView",
        "valid_to",
        "Dernier jour de l'adresse (vide : en cours).",
    ),
    ("AdultInput", "", "Un adulte, tel que saisi."),
    (
        "AdultInput",
        "last_name",
        "Nom d'usage (obligatoire), enregistré en majuscules.",
    ),
    ("AdultInput", "first_name", "Prénom (obligatoire)."),
    ("AdultInput", "birth_name", "Nom de naissance."),
    ("AdultInput", "sex", "`F`, `M` ou `X`."),
    (
        "AdultInput",
        "birth_date",
        "Date de naissance (AAAA-MM-JJ).",
    ),
    (
        "AdultInput",
        "phone_mobile",
        "Téléphone portable (10 chiffres, ou +indicatif).",
    ),
    (
        "AdultInput",
        "professional_situation",
        "Situation professionnelle : `employed`, \
      `shifted_hours`, `self_employed`, `job_seeker`, `parental_leave`, `student`, `retired`, \
      `inactive` ou `other`.",
    ),
    (
        "AdultInput",
        "contact_by_mail",
        "Accepte d'être contacté par courriel (oui par défaut).",
    ),
    (
        "AdultInput",
        "contact_by_sms",
        "Accepte d'être contacté par SMS (non par défaut).",
    ),
    (
        "AdultInput",
        "contact_by_paper",
        "Préfère les courriers papier (non par défaut).",
    ),
    ("AdultView", "", "Un adulte membre du foyer."),
    (
        "AdultView",
        "role",
        "Rôle dans le foyer : `head` (responsable), `partner` (conjoint) ou \
      `other` (autre membre).",
    ),
    ("AdultView", "role_label", "Le rôle en toutes lettres."),
    (
        "AdultView",
        "professional_situation_label",
        "La situation professionnelle en toutes lettres.",
    ),
    ("PersonView", "", "Identité et coordonnées d'une personne."),
    ("PersonView", "id", "Identifiant de la personne."),
    ("PersonView", "kind", "`adult` ou `child`."),
    ("PersonView", "sex", "`F`, `M` ou `X`."),
    (
        "PersonView",
        "own_email_consent",
        "Accord d'un responsable légal pour le courriel propre \
      d'un enfant de 12 à 18 ans.",
    ),
    (
        "PersonView",
        "photo_document_id",
        "Pièce justificative contenant la photo.",
    ),
    ("ChildInput", "", "Un enfant, tel que saisi."),
    (
        "ChildInput",
        "last_name",
        "Nom (obligatoire), enregistré en majuscules.",
    ),
    ("ChildInput", "first_name", "Prénom (obligatoire)."),
    ("ChildInput", "sex", "`F`, `M` ou `X`."),
    (
        "ChildInput",
        "birth_date",
        "Date de naissance (AAAA-MM-JJ) : l'enfant a moins de 26 ans.",
    ),
    (
        "ChildInput",
        "email",
        "Courriel propre d'un enfant de 12 à 18 ans, avec l'accord d'un \
      responsable légal.",
    ),
    (
        "ChildInput",
        "own_email_consent",
        "Accord d'un responsable légal pour ce courriel.",
    ),
    ("ChildSummary", "", "Un enfant du foyer, en bref."),
    ("ChildSummary", "age", "Âge en années révolues aujourd'hui."),
    (
        "ChildSummary",
        "usual_residence",
        "Le foyer est sa résidence habituelle.",
    ),
    (
        "ChildSummary",
        "other_households",
        "L'autre foyer d'un enfant en garde alternée.",
    ),
    ("ChildSummary", "custody", "La garde, en toutes lettres."),
    (
        "ChildSummary",
        "in_charge_today",
        "Numéro de la famille qui a la garde aujourd'hui.",
    ),
    ("ChildView", "", "Le dossier d'un enfant."),
    ("ChildView", "age", "Âge en années révolues aujourd'hui."),
    (
        "ChildView",
        "households",
        "Les foyers de l'enfant (deux en garde alternée).",
    ),
    ("ChildView", "guardians", "Ses responsables légaux."),
    (
        "ChildView",
        "custody",
        "Calendrier de garde alternée (motifs de semaines).",
    ),
    ("ChildView", "custody_text", "La garde, en toutes lettres."),
    (
        "ChildView",
        "authorisations",
        "Autorisations (sortie, photo, soins...) données ou refusées.",
    ),
    (
        "ChildView",
        "contacts",
        "Personnes à contacter en cas d'urgence ou autorisées à venir \
      chercher l'enfant.",
    ),
    (
        "ChildView",
        "school_history",
        "Sa scolarité, année par année.",
    ),
    (
        "ChildView",
        "health",
        "Fiche sanitaire : seulement les niveaux que le jeton permet de lire ; \
      absente si aucun.",
    ),
    (
        "HealthSheet",
        "",
        "Fiche sanitaire, par niveau de confidentialité ; un niveau que le jeton \
      ne permet pas de lire est absent, un niveau non renseigné est vide (null).",
    ),
    (
        "HealthSheet",
        "basic",
        "Niveau de base (droit `health:basic`).",
    ),
    (
        "HealthSheet",
        "medical",
        "Niveau médical (droit `health:medical`).",
    ),
    (
        "HealthSheet",
        "confidential",
        "Niveau confidentiel (droit `health:confidential`).",
    ),
    (
        "BasicHealth",
        "",
        "Ce que tout adulte qui encadre l'enfant doit savoir.",
    ),
    (
        "BasicHealth",
        "diet",
        "Régime alimentaire : `standard`, `no_meat`, `no_pork`, \
      `vegetarian` ou `pai`.",
    ),
    ("BasicHealth", "allergies", "Allergies."),
    (
        "BasicHealth",
        "pai",
        "Projet d'accueil individualisé (PAI).",
    ),
    (
        "BasicHealth",
        "what_to_do",
        "Conduite à tenir, en quelques mots.",
    ),
    (
        "MedicalHealth",
        "",
        "La fiche sanitaire complète, pour le personnel médical.",
    ),
    ("MedicalHealth", "illnesses", "Maladies."),
    ("MedicalHealth", "medication", "Traitement."),
    ("MedicalHealth", "vaccinations", "Vaccinations."),
    ("MedicalHealth", "medical_visits", "Visites médicales."),
    ("MedicalHealth", "doctor", "Médecin traitant."),
    ("ConfidentialHealth", "", "Suivi confidentiel (AEEH, MDPH)."),
    ("ConfidentialHealth", "aeeh", "Bénéficie de l'AEEH."),
    ("ConfidentialHealth", "mdph", "Suivi par la MDPH."),
    ("Vaccination", "", "Un vaccin ou une visite, daté."),
    ("CreatedFamily", "", "Identifiants d'une famille créée."),
    (
        "Homonym",
        "",
        "Une personne déjà enregistrée qui ressemble à une personne de la demande \
      (même nom ou nom proche, même date de naissance si connue).",
    ),
    (
        "Homonym",
        "person_id",
        "Identifiant de la personne existante.",
    ),
    ("Homonym", "kind", "`adult` ou `child`."),
    ("Homonym", "household_id", "Identifiant de sa famille."),
    ("Homonym", "household_number", "Numéro de sa famille."),
    ("Homonym", "household_status", "`active` ou `archived`."),
    (
        "HouseholdPatch",
        "",
        "Les champs d'une famille à changer (un champ absent reste \
      inchangé).",
    ),
    (
        "HouseholdPatch",
        "situation",
        "Situation familiale : `couple`, `single_parent`, \
      `separated`, `blended` ou `other`.",
    ),
    (
        "HouseholdPatch",
        "regime",
        "Régime : `caf`, `msa`, `other` ou `none`.",
    ),
    (
        "HouseholdPatch",
        "allocataire",
        "Numéro d'allocataire (chaîne vide : effacé).",
    ),
    (
        "HouseholdPatch",
        "address",
        "Nouvelle adresse de résidence, à partir d'aujourd'hui.",
    ),
    (
        "HouseholdPatch",
        "billing_address",
        "Nouvelle adresse de facturation, à partir \
      d'aujourd'hui.",
    ),
    ("HouseholdRef", "", "Un foyer de l'enfant."),
    ("HouseholdRef", "id", "Identifiant de la famille."),
    ("HouseholdRef", "number", "Numéro de la famille."),
    (
        "HouseholdRef",
        "usual_residence",
        "Résidence habituelle de l'enfant.",
    ),
    (
        "HouseholdSummary",
        "",
        "Une famille dans une liste de résultats.",
    ),
    ("HouseholdSummary", "id", "Identifiant de la famille."),
    (
        "HouseholdSummary",
        "number",
        "Numéro de la famille (public, propre à la ville).",
    ),
    ("HouseholdSummary", "name", "Nom du foyer."),
    ("HouseholdSummary", "status", "`active` ou `archived`."),
    ("HouseholdSummary", "town", "Commune de résidence."),
    (
        "HouseholdSummary",
        "members",
        "« Prénom NOM » des adultes puis des enfants.",
    ),
    ("HouseholdView", "", "Le dossier d'une famille."),
    ("HouseholdView", "id", "Identifiant de la famille."),
    (
        "HouseholdView",
        "number",
        "Numéro de la famille (public, propre à la ville).",
    ),
    ("HouseholdView", "name", "Nom du foyer."),
    ("HouseholdView", "situation", "Situation familiale (code)."),
    (
        "HouseholdView",
        "situation_label",
        "Situation familiale en toutes lettres.",
    ),
    ("HouseholdView", "regime", "Régime (code)."),
    ("HouseholdView", "regime_label", "Régime en toutes lettres."),
    ("HouseholdView", "allocataire", "Numéro d'allocataire."),
    ("HouseholdView", "status", "`active` ou `archived`."),
    ("HouseholdView", "archive_reason", "Motif de l'archivage."),
    ("HouseholdView", "address", "Adresse de résidence en cours."),
    (
        "HouseholdView",
        "billing_address",
        "Adresse de facturation en cours, si différente.",
    ),
    (
        "HouseholdView",
        "adults",
        "Les adultes du foyer, le responsable en premier.",
    ),
    (
        "HouseholdView",
        "children",
        "Les enfants rattachés au foyer.",
    ),
    (
        "HouseholdView",
        "incomes",
        "Revenus et quotient familial, datés : présents seulement si \
      le jeton permet de les lire (droit `family_income`).",
    ),
    (
        "HouseholdView",
        "bank_accounts",
        "Comptes bancaires et mandats SEPA : présents seulement \
      si le jeton permet de les lire (droit `bank`).",
    ),
    (
        "IncomeView",
        "",
        "Revenus et quotient familial d'une période.",
    ),
    (
        "IncomeView",
        "family_quotient",
        "Quotient familial (euros).",
    ),
    (
        "IncomeView",
        "monthly_resources",
        "Ressources mensuelles, en centimes.",
    ),
    ("IncomeView", "dependent_children", "Enfants à charge."),
    (
        "IncomeView",
        "source",
        "Origine : `caf`, `msa`, `tax_notice`, `declaration` ou `agent`.",
    ),
    ("IncomeView", "document_id", "Pièce justificative."),
    ("IncomeView", "entered_by", "Auteur de la saisie."),
    ("BankView", "", "Un compte bancaire de la famille."),
    (
        "BankView",
        "holder_id",
        "Identifiant de l'adulte titulaire.",
    ),
    (
        "BankView",
        "iban_hint",
        "IBAN masqué (l'IBAN complet n'est jamais transmis).",
    ),
    ("BankView", "mandates", "Mandats de prélèvement SEPA."),
    ("MandateView", "", "Un mandat de prélèvement SEPA."),
    ("MandateView", "rum", "Référence unique du mandat (RUM)."),
    ("MandateView", "signed_on", "Date de signature."),
    ("GuardianView", "", "Un responsable légal de l'enfant."),
    ("GuardianView", "id", "Identifiant de l'adulte."),
    (
        "GuardianView",
        "relationship",
        "`mother`, `father`, `guardian` ou autre.",
    ),
    (
        "GuardianView",
        "relationship_label",
        "Le lien en toutes lettres.",
    ),
    (
        "GuardianView",
        "joint_authority",
        "Autorité parentale conjointe.",
    ),
    (
        "AuthorisationView",
        "",
        "Une autorisation donnée ou refusée pour l'enfant.",
    ),
    (
        "AuthorisationView",
        "activity_id",
        "Activité concernée (vide : toutes).",
    ),
    ("ContactView", "", "Une personne à contacter pour l'enfant."),
    ("ContactView", "emergency", "À appeler en cas d'urgence."),
    ("ContactView", "priority", "Ordre d'appel."),
    (
        "ContactView",
        "may_pick_up",
        "Autorisée à venir chercher l'enfant.",
    ),
    (
        "ContactView",
        "forbidden_pick_up",
        "Interdite de venir chercher l'enfant.",
    ),
    ("SchoolYearView", "", "Une année de scolarité."),
    (
        "SchoolYearView",
        "school_year",
        "Année scolaire (2026-2027).",
    ),
    (
        "NewFamily",
        "",
        "Une nouvelle famille : son responsable, éventuellement un conjoint, ses \
      enfants, son adresse.",
    ),
    (
        "NewFamily",
        "situation",
        "Situation familiale : `couple` (par défaut), `single_parent`, \
      `separated`, `blended` ou `other`.",
    ),
    (
        "NewFamily",
        "regime",
        "Régime : `caf` (par défaut), `msa`, `other` ou `none`.",
    ),
    ("NewFamily", "allocataire", "Numéro d'allocataire."),
    (
        "NewFamily",
        "address",
        "Adresse de résidence (obligatoire).",
    ),
    (
        "NewFamily",
        "billing_address",
        "Adresse de facturation, si différente.",
    ),
    (
        "NewFamily",
        "head",
        "Le responsable du foyer (obligatoire).",
    ),
    ("NewFamily", "partner", "Son conjoint."),
    ("NewFamily", "children", "Les enfants."),
    (
        "NewFamily",
        "ignore_homonyms",
        "Créer même si des homonymes existent (après les avoir \
      vérifiés).",
    ),
    (
        "PersonPatch",
        "",
        "Les champs d'une personne à changer (un champ absent reste inchangé ; \
      une chaîne vide efface un champ facultatif).",
    ),
    (
        "PersonPatch",
        "professional_situation",
        "Situation professionnelle (voir AdultInput).",
    ),
];

/// Replaces the domain schemas' English descriptions with the French ones above.
pub(super) fn in_french(document: &mut serde_json::Value) {
    use serde_json::Value;
    let Some(Value::Object(schemas)) = document.pointer_mut("/components/schemas") else {
        return;
    };
    for (name, schema) in schemas.iter_mut() {
        if API_SCHEMAS.contains(&name.as_str()) {
            continue;
        }
        drop_descriptions(schema);
        let french = |property: &str| {
            FRENCH
                .iter()
                .find(|(s, p, _)| s == name && *p == property)
                .map(|(_, _, text)| Value::from(*text))
        };
        let parts = match schema.get_mut("allOf") {
            Some(Value::Array(parts)) => parts.iter_mut().collect::<Vec<_>>(),
            _ => vec![&mut *schema],
        };
        for part in parts {
            if let Some(Value::Object(properties)) = part.get_mut("properties") {
                for (property, definition) in properties.iter_mut() {
                    if let (Some(text), Value::Object(definition)) = (french(property), definition)
                    {
                        definition.insert("description".into(), text);
                    }
                }
            }
        }
        if let (Some(text), Value::Object(schema)) = (french(""), schema) {
            schema.insert("description".into(), text);
        }
    }
}

fn drop_descriptions(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(object) => {
            if object.get("description").is_some_and(Value::is_string) {
                object.remove("description");
            }
            object.values_mut().for_each(drop_descriptions);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_descriptions),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::json;
    use super::*;

    #[test]
    fn every_schema_is_described_in_french() {
        let document: serde_json::Value = serde_json::from_str(json().unwrap()).unwrap();
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for (name, schema) in schemas {
            let description = schema["description"].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "{name} has no description");
        }
        for (schema, property, _) in FRENCH {
            assert!(
                schemas.contains_key(*schema),
                "{schema} is not in the document"
            );
            if !property.is_empty() {
                let found = schemas[*schema]["properties"][*property].is_object()
                    || schemas[*schema]["allOf"].as_array().is_some_and(|parts| {
                        parts.iter().any(|p| p["properties"][*property].is_object())
                    });
                assert!(found, "{schema}.{property} is not in the document");
            }
        }
        // No English left over from the domain's comments.
        let text = json().unwrap();
        for english in ["as submitted", "A household", "reader may see", "Cents."] {
            assert!(!text.contains(english), "{english}");
        }
    }
}
