//! Synthetic families for demonstrations and benchmarks: French names and addresses of the
//! city, couples, single parents, about 15 % separated parents with shared custody (the
//! child in two households), siblings, health sheets, incomes spread like a real city's
//! quotients familiaux, bank details, authorisations, contacts, school history.
//! Reproducible: the same seed gives the same families.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::bank::{self, BankInput};
use super::health::{
    self, BasicHealth, ConfidentialHealth, HealthSheet, MedicalHealth, Vaccination,
};
use super::model::{AddressInput, AdultInput, ChildInput, NewFamily};
use super::schema::{
    authorisation_kinds, authorisations, child_contacts, disability_benefits, school_history,
};
use super::store::{self, Creation, IncomeInput};
use crate::domain::calendar::{CustodyPattern, CustodyRule, Handover, HouseholdRef};
use crate::platform::crypto::CityKey;
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};

const SURNAMES: &[&str] = &[
    "MARTIN",
    "BERNARD",
    "THOMAS",
    "PETIT",
    "ROBERT",
    "RICHARD",
    "DURAND",
    "DUBOIS",
    "MOREAU",
    "LAURENT",
    "SIMON",
    "MICHEL",
    "LEFEBVRE",
    "LEROY",
    "ROUX",
    "DAVID",
    "BERTRAND",
    "MOREL",
    "FOURNIER",
    "GIRARD",
    "BONNET",
    "DUPONT",
    "LAMBERT",
    "FONTAINE",
    "ROUSSEAU",
    "VINCENT",
    "MULLER",
    "LEFÈVRE",
    "FAURE",
    "ANDRÉ",
    "MERCIER",
    "BLANC",
    "GUÉRIN",
    "BOYER",
    "GARNIER",
    "CHEVALIER",
    "FRANÇOIS",
    "LEGRAND",
    "GAUTHIER",
    "GARCIA",
    "PERRIN",
    "ROBIN",
    "CLÉMENT",
    "MORIN",
    "NICOLAS",
    "HENRY",
    "ROUSSEL",
    "MATHIEU",
    "GAUTIER",
    "MASSON",
    "MARCHAND",
    "DUVAL",
    "DENIS",
    "DUMONT",
    "MARIE",
    "LEMAIRE",
    "NOËL",
    "MEYER",
    "DUFOUR",
    "MEUNIER",
    "BRUN",
    "BLANCHARD",
    "GIRAUD",
    "JOLY",
    "RIVIÈRE",
    "LUCAS",
    "BRUNET",
    "GAILLARD",
    "BARBIER",
    "ARNAUD",
    "MARTINEZ",
    "GÉRARD",
    "ROCHE",
    "RENARD",
    "SCHMITT",
    "ROY",
    "LEROUX",
    "COLIN",
    "VIDAL",
    "CARON",
    "PICARD",
    "ROGER",
    "FABRE",
    "AUBERT",
    "LEMOINE",
    "RENAUD",
    "DUMAS",
    "LACROIX",
    "OLIVIER",
    "PHILIPPE",
    "BOURGEOIS",
    "PIERRE",
    "BENOÎT",
    "REY",
    "LECLERC",
    "PAYET",
    "ROLLAND",
    "LECLERCQ",
    "GUILLAUME",
    "LECOMTE",
    "HADDAD",
    "BENALI",
    "NGUYEN",
    "TRAN",
    "DIALLO",
    "TRAORÉ",
    "KONÉ",
    "OULD",
    "CHERIF",
    "BELKACEM",
    "DA SILVA",
    "FERREIRA",
    "PEREIRA",
    "RODRIGUES",
    "LOPEZ",
    "SANCHEZ",
    "ROSSI",
    "RUSSO",
    "YILMAZ",
    "KAYA",
];

const GIRLS: &[&str] = &[
    "Emma",
    "Jade",
    "Louise",
    "Alice",
    "Chloé",
    "Lina",
    "Léa",
    "Rose",
    "Anna",
    "Mila",
    "Inès",
    "Ambre",
    "Julia",
    "Mia",
    "Léna",
    "Manon",
    "Juliette",
    "Lou",
    "Zoé",
    "Camille",
    "Agathe",
    "Lola",
    "Jeanne",
    "Éva",
    "Nina",
    "Sarah",
    "Romane",
    "Inaya",
    "Salomé",
    "Adèle",
    "Yasmine",
    "Maëlys",
    "Clémence",
    "Nour",
];
const BOYS: &[&str] = &[
    "Gabriel", "Léo", "Raphaël", "Arthur", "Louis", "Jules", "Adam", "Maël", "Lucas", "Hugo",
    "Noah", "Liam", "Gabin", "Sacha", "Paul", "Nathan", "Aaron", "Mohamed", "Ethan", "Tom", "Éden",
    "Léon", "Noé", "Tiago", "Théo", "Isaac", "Marius", "Victor", "Ayden", "Martin", "Naël",
    "Mathis", "Axel",
];
const WOMEN: &[&str] = &[
    "Marie",
    "Nathalie",
    "Isabelle",
    "Sylvie",
    "Catherine",
    "Sandrine",
    "Céline",
    "Aurélie",
    "Émilie",
    "Julie",
    "Stéphanie",
    "Élodie",
    "Audrey",
    "Mélanie",
    "Virginie",
    "Laetitia",
    "Karine",
    "Sophie",
    "Fatima",
    "Samira",
    "Amel",
    "Leïla",
    "Claire",
    "Hélène",
    "Caroline",
    "Anne",
    "Laure",
    "Amandine",
];
const MEN: &[&str] = &[
    "Nicolas",
    "Julien",
    "Sébastien",
    "Christophe",
    "Stéphane",
    "David",
    "Frédéric",
    "Laurent",
    "Mathieu",
    "Guillaume",
    "Jérôme",
    "Olivier",
    "Thomas",
    "Alexandre",
    "Vincent",
    "Romain",
    "Cédric",
    "Karim",
    "Mehdi",
    "Rachid",
    "Antoine",
    "Benoît",
    "Fabien",
    "Yannick",
    "Pierre",
    "Grégory",
    "Damien",
];
const STREETS: &[&str] = &[
    "rue Jean-Jaurès",
    "avenue du 8 Mai 1945",
    "rue Victor-Hugo",
    "rue de la République",
    "chemin des Vignes",
    "allée des Tilleuls",
    "rue Pasteur",
    "rue des Écoles",
    "avenue Charles-de-Gaulle",
    "impasse des Lilas",
    "rue du Stade",
    "place de la Mairie",
    "rue Émile-Zola",
    "chemin du Moulin",
    "rue des Marronniers",
    "rue Paul-Bert",
    "boulevard des Nations",
    "rue de la Paix",
    "allée des Peupliers",
    "rue Anatole-France",
    "montée des Roches",
    "rue Louis-Pergaud",
    "rue du Docteur-Roux",
    "avenue Jean-Moulin",
    "rue des Glycines",
];
const ALLERGIES: &[&str] = &[
    "arachide",
    "lait de vache",
    "œuf",
    "fruits à coque",
    "gluten",
    "poisson",
    "kiwi",
];
const JOBS: &[&str] = &[
    "employed",
    "employed",
    "employed",
    "shifted_hours",
    "self_employed",
    "job_seeker",
    "parental_leave",
    "inactive",
];
const LEVELS: &[(i32, &str)] = &[
    (3, "PS"),
    (4, "MS"),
    (5, "GS"),
    (6, "CP"),
    (7, "CE1"),
    (8, "CE2"),
    (9, "CM1"),
    (10, "CM2"),
];

/// The city's postal code and town, for addresses.
pub struct Locality {
    pub postal_code: &'static str,
    pub town: &'static str,
}

/// What a run created.
#[derive(Debug, Default, Clone, Copy)]
pub struct Report {
    pub households: usize,
    pub children: usize,
    pub shared_custody: usize,
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

fn phone(rng: &mut StdRng) -> String {
    format!(
        "0{} {:02} {:02} {:02} {:02}",
        rng.random_range(6..=7),
        rng.random_range(0..100),
        rng.random_range(0..100),
        rng.random_range(0..100),
        rng.random_range(0..100)
    )
}

fn email(first: &str, last: &str, rng: &mut StdRng) -> String {
    let clean = |s: &str| {
        s.to_lowercase()
            .chars()
            .map(|c| match c {
                'é' | 'è' | 'ê' | 'ë' => 'e',
                'à' | 'â' => 'a',
                'î' | 'ï' => 'i',
                'ô' => 'o',
                'ù' | 'û' | 'ü' => 'u',
                'ç' => 'c',
                ' ' | '\'' => '-',
                c => c,
            })
            .collect::<String>()
    };
    let domain = pick(rng, &["exemple.fr", "courriel.test", "messagerie.test"]);
    format!(
        "{}.{}{}@{domain}",
        clean(first),
        clean(last),
        rng.random_range(1..100)
    )
}

fn birth(rng: &mut StdRng, today: NaiveDate, min_age: u64, max_age: u64) -> NaiveDate {
    let days = rng.random_range(min_age * 365..=max_age * 365 + 300);
    today.checked_sub_days(Days::new(days)).unwrap_or(today)
}

fn adult(rng: &mut StdRng, last: &str, woman: bool, today: NaiveDate) -> AdultInput {
    let first = pick(rng, if woman { WOMEN } else { MEN });
    AdultInput {
        last_name: last.to_string(),
        first_name: first.to_string(),
        sex: Some(if woman { "F" } else { "M" }.into()),
        birth_date: Some(birth(rng, today, 26, 52)),
        birth_place: Some(
            pick(
                rng,
                &[
                    "Lyon",
                    "Vénissieux",
                    "Villeurbanne",
                    "Saint-Étienne",
                    "Marseille",
                    "Paris",
                    "Alger",
                    "Porto",
                    "Grenoble",
                ],
            )
            .into(),
        ),
        email: Some(email(first, last, rng)),
        phone_mobile: Some(phone(rng)),
        professional_situation: Some(pick(rng, JOBS).into()),
        contact_by_sms: Some(rng.random_bool(0.6)),
        ..AdultInput::default()
    }
}

/// Monthly resources (cents) giving quotient `qf` with the CAF's parts: 2 for the parents,
/// half a part for each of the first two children, one from the third.
fn monthly_resources(qf: i32, children: usize) -> i64 {
    let half_parts = 4 + children.min(2) as i64 + 2 * children.saturating_sub(2) as i64;
    i64::from(qf) * 100 * half_parts / 2
}

/// A quotient familial drawn like a real city's spread (many between 400 and 1,200).
fn quotient(rng: &mut StdRng) -> i32 {
    let base: f64 = (0..3).map(|_| rng.random_range(150.0..900.0)).sum::<f64>() / 1.5;
    base.round() as i32
}

/// Creates `count` synthetic households in the city of `conn`.
pub async fn generate(
    conn: &mut Conn,
    key: &CityKey,
    locality: &Locality,
    seed: u64,
    count: usize,
    today: NaiveDate,
) -> AppResult<Report> {
    let mut rng = StdRng::seed_from_u64(seed);
    let kinds: Vec<i64> = authorisation_kinds::table
        .select(authorisation_kinds::id)
        .order(authorisation_kinds::sort)
        .load(conn)
        .await?;
    let mut report = Report::default();
    for _ in 0..count {
        let last = pick(&mut rng, SURNAMES).to_string();
        let separated = rng.random_bool(0.15);
        let single = !separated && rng.random_bool(0.18);
        let mother = adult(&mut rng, &last, true, today);
        let father = adult(&mut rng, &last, false, today);
        let children: Vec<ChildInput> = (0..rng.random_range(1..=3))
            .map(|_| {
                let girl = rng.random_bool(0.5);
                ChildInput {
                    last_name: last.clone(),
                    first_name: pick(&mut rng, if girl { GIRLS } else { BOYS }).to_string(),
                    sex: Some(if girl { "F" } else { "M" }.into()),
                    birth_date: Some(birth(&mut rng, today, 0, 14)),
                    ..ChildInput::default()
                }
            })
            .collect();
        let address = AddressInput {
            line1: format!("{} {}", rng.random_range(1..120), pick(&mut rng, STREETS)),
            line2: String::new(),
            postal_code: locality.postal_code.into(),
            town: locality.town.into(),
        };
        let family = NewFamily {
            situation: Some(
                if separated {
                    "separated"
                } else if single {
                    "single_parent"
                } else {
                    "couple"
                }
                .into(),
            ),
            regime: Some(if rng.random_bool(0.93) { "caf" } else { "msa" }.into()),
            allocataire: Some(format!("{:07}", rng.random_range(1_000_000..9_999_999))),
            address,
            head: mother,
            partner: (!separated && !single).then_some(father.clone()),
            children,
            ignore_homonyms: true,
            ..NewFamily::default()
        };
        let Creation::Created(created) = store::create_family(conn, &family, today).await? else {
            return Err(AppError::internal(anyhow::anyhow!(
                "homonym check despite ignore_homonyms"
            )));
        };
        report.households += 1;
        report.children += created.children.len();
        let qf = quotient(&mut rng);
        store::add_income(
            conn,
            created.id,
            &IncomeInput {
                family_quotient: Some(qf),
                monthly_resources: Some(monthly_resources(qf, created.children.len())),
                dependent_children: Some(created.children.len() as i16),
                source: "caf".into(),
                valid_from: NaiveDate::from_ymd_opt(today.year(), 1, 1),
                document_id: None,
            },
            "demo",
            today,
        )
        .await?;
        if separated {
            report.shared_custody += 1;
            report.households += 1;
            share_custody(
                conn,
                &mut rng,
                &created.children,
                created.id,
                &father,
                locality,
                today,
            )
            .await?;
        }
        for &child in &created.children {
            decorate_child(conn, key, &mut rng, child, &kinds, today).await?;
        }
        if rng.random_bool(0.4) {
            let account = bank::add_account(
                conn,
                key,
                created.id,
                &BankInput {
                    holder_id: created.adults[0],
                    iban: demo_iban(&mut rng),
                    bic: "AGRIFRPP839".into(),
                },
            )
            .await?;
            bank::add_mandate(
                conn,
                account,
                None,
                today
                    .checked_sub_days(Days::new(rng.random_range(10..900)))
                    .unwrap_or(today),
            )
            .await?;
        }
    }
    Ok(report)
}

/// The first family with children whose head has an e-mail: (household, head).
pub async fn first_family_with_children(conn: &mut Conn) -> AppResult<(i64, i64)> {
    #[derive(QueryableByName)]
    struct Pick {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        household: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        head: i64,
    }
    let pick: Option<Pick> = diesel::sql_query(
        "SELECT h.id AS household, m.person_id AS head
           FROM households h
           JOIN household_members m ON m.household_id = h.id AND m.role = 'head' AND m.valid_to IS NULL
           JOIN persons p ON p.id = m.person_id AND p.email IS NOT NULL
          WHERE EXISTS (SELECT 1 FROM child_links c WHERE c.household_id = h.id AND c.valid_to IS NULL)
          ORDER BY h.number LIMIT 1",
    )
    .get_result(conn)
    .await
    .optional()?;
    let pick = pick.ok_or_else(|| AppError::not_found("Aucune famille de démonstration."))?;
    Ok((pick.household, pick.head))
}

/// The father's own household, the children linked to it too, alternate weeks.
async fn share_custody(
    conn: &mut Conn,
    rng: &mut StdRng,
    children: &[i64],
    mother_household: i64,
    father: &AdultInput,
    locality: &Locality,
    today: NaiveDate,
) -> AppResult<()> {
    let own = NewFamily {
        situation: Some("separated".into()),
        address: AddressInput {
            line1: format!("{} {}", rng.random_range(1..120), pick(rng, STREETS)),
            line2: String::new(),
            postal_code: locality.postal_code.into(),
            town: locality.town.into(),
        },
        head: father.clone(),
        ignore_homonyms: true,
        ..NewFamily::default()
    };
    let Creation::Created(father_household) = store::create_family(conn, &own, today).await? else {
        return Ok(());
    };
    let monday = today
        .checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_monday())))
        .unwrap_or(today);
    for &child in children {
        store::link_child(conn, child, father_household.id, false, today).await?;
        store::head_becomes_guardian(conn, child, father_household.id, today).await?;
        let pattern = CustodyPattern {
            valid_from: NaiveDate::from_ymd_opt(today.year() - 1, 9, 1).unwrap_or(today),
            valid_to: None,
            rule: CustodyRule::AlternateWeeks {
                week_a: HouseholdRef(mother_household),
                week_b: HouseholdRef(father_household.id),
                reference_date: monday,
                week_start: Weekday::Mon,
                handover: Handover::SchoolExit {
                    time: chrono::NaiveTime::from_hms_opt(16, 30, 0).unwrap_or_default(),
                },
            },
        };
        store::set_custody(conn, child, &[pattern]).await?;
    }
    Ok(())
}

async fn decorate_child(
    conn: &mut Conn,
    key: &CityKey,
    rng: &mut StdRng,
    child: i64,
    kinds: &[i64],
    today: NaiveDate,
) -> AppResult<()> {
    let allergic = rng.random_bool(0.12);
    let diet = if allergic && rng.random_bool(0.3) {
        "pai"
    } else {
        pick(
            rng,
            &[
                "standard",
                "standard",
                "standard",
                "no_meat",
                "no_pork",
                "vegetarian",
            ],
        )
    };
    let aeeh = rng.random_bool(0.02);
    let sheet = HealthSheet {
        basic: Some(BasicHealth {
            diet: diet.into(),
            allergies: if allergic {
                vec![pick(rng, ALLERGIES).to_string()]
            } else {
                Vec::new()
            },
            pai: diet == "pai" || (allergic && rng.random_bool(0.4)),
            what_to_do: if allergic {
                "Appeler les parents ; trousse d'urgence dans le sac".into()
            } else {
                String::new()
            },
        }),
        medical: Some(MedicalHealth {
            illnesses: if rng.random_bool(0.08) {
                vec!["asthme".into()]
            } else {
                Vec::new()
            },
            vaccinations: vec![Vaccination {
                name: "DTP".into(),
                date: today.checked_sub_days(Days::new(rng.random_range(100..2000))),
            }],
            doctor: format!("Dr {}", pick(rng, SURNAMES)),
            ..MedicalHealth::default()
        }),
        confidential: aeeh.then(|| ConfidentialHealth {
            aeeh: true,
            mdph: true,
            notes: "Accompagnement AESH à prévoir".into(),
        }),
    };
    health::save(conn, key, child, &sheet).await?;
    if aeeh {
        diesel::insert_into(disability_benefits::table)
            .values((
                disability_benefits::child_id.eq(child),
                disability_benefits::kind.eq("aeeh"),
                disability_benefits::valid_from
                    .eq(NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today)),
            ))
            .execute(conn)
            .await?;
    }
    let rows: Vec<_> = kinds
        .iter()
        .map(|kind| {
            (
                authorisations::kind_id.eq(*kind),
                authorisations::child_id.eq(child),
                authorisations::granted.eq(rng.random_bool(0.9)),
                authorisations::valid_from
                    .eq(NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today)),
            )
        })
        .collect();
    diesel::insert_into(authorisations::table)
        .values(rows)
        .execute(conn)
        .await?;
    diesel::insert_into(child_contacts::table)
        .values((
            child_contacts::child_id.eq(child),
            child_contacts::last_name.eq(pick(rng, SURNAMES)),
            child_contacts::first_name.eq(pick(rng, WOMEN)),
            child_contacts::relationship.eq("grand-mère"),
            child_contacts::phone.eq(phone(rng)),
            child_contacts::emergency.eq(true),
            child_contacts::may_pick_up.eq(true),
        ))
        .execute(conn)
        .await?;
    let birth: Option<NaiveDate> = super::schema::persons::table
        .find(child)
        .select(super::schema::persons::birth_date)
        .first(conn)
        .await?;
    if let Some(birth) = birth {
        let age = super::model::age_on(
            birth,
            NaiveDate::from_ymd_opt(today.year(), 9, 1).unwrap_or(today),
        );
        if let Some((_, level)) = LEVELS.iter().find(|(a, _)| *a == age) {
            let year = if today.month() >= 9 {
                today.year()
            } else {
                today.year() - 1
            };
            diesel::insert_into(school_history::table)
                .values((
                    school_history::child_id.eq(child),
                    school_history::school_year.eq(format!("{year}-{}", year + 1)),
                    school_history::school_name.eq(if age < 6 {
                        "École maternelle Jean-Macé"
                    } else {
                        "École élémentaire Louis-Pergaud"
                    }),
                    school_history::level.eq(*level),
                    school_history::class_name.eq(format!("{level} {}", pick(rng, &["A", "B"]))),
                    school_history::teacher.eq(format!(
                        "{} {}",
                        pick(rng, &["Mme", "M."]),
                        pick(rng, SURNAMES)
                    )),
                ))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// A valid French IBAN (checksum computed) for a fictitious account.
fn demo_iban(rng: &mut StdRng) -> String {
    let bban = format!(
        "20041{:05}{:011}{:02}",
        rng.random_range(0..99_999),
        rng.random_range(0..99_999_999_999u64),
        rng.random_range(0..97)
    );
    let rearranged = format!("{bban}152700");
    let remainder = rearranged.chars().fold(0u64, |acc, c| {
        (acc * 10 + u64::from(c.to_digit(10).unwrap_or(0))) % 97
    });
    format!("FR{:02}{bban}", 98 - remainder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_ibans_pass_the_checksum() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..50 {
            let iban = demo_iban(&mut rng);
            assert!(bank::check_iban(&iban).is_ok(), "{iban}");
        }
    }

    #[test]
    fn resources_follow_the_caf_parts() {
        assert_eq!(monthly_resources(800, 1), 800 * 100 * 5 / 2);
        assert_eq!(monthly_resources(800, 3), 800 * 100 * 4);
    }

    #[test]
    fn quotients_spread_like_a_city() {
        let mut rng = StdRng::seed_from_u64(1);
        let values: Vec<i32> = (0..2000).map(|_| quotient(&mut rng)).collect();
        let middle = values.iter().filter(|q| (400..=1_300).contains(*q)).count();
        assert!(middle > 1_200, "most quotients are middle ones: {middle}");
        assert!(values.iter().all(|q| (300..=2_700).contains(q)));
    }
}
