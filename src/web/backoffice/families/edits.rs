//! The forms of the household page: the household, its members and children, archiving,
//! incomes, bank accounts and mandates, the family portal account.

use super::*;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct HouseholdForm {
    situation: String,
    regime: String,
    allocataire: String,
    line1: String,
    line2: String,
    postal_code: String,
    town: String,
    billing_line1: String,
    billing_line2: String,
    billing_postal_code: String,
    billing_town: String,
}

pub(super) async fn update(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<HouseholdForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let patch = HouseholdPatch {
        situation: some(&form.situation),
        regime: some(&form.regime),
        allocataire: Some(form.allocataire.clone()),
        address: (!form.line1.trim().is_empty()).then(|| AddressInput {
            line1: form.line1.clone(),
            line2: form.line2.clone(),
            postal_code: form.postal_code.clone(),
            town: form.town.clone(),
        }),
        billing_address: (!form.billing_line1.trim().is_empty()).then(|| AddressInput {
            line1: form.billing_line1.clone(),
            line2: form.billing_line2.clone(),
            postal_code: form.billing_postal_code.clone(),
            town: form.billing_town.clone(),
        }),
    };
    change(
        state,
        &city,
        &principal,
        &csrf,
        id,
        "Le dossier est mis à jour.",
        move |conn| {
            Box::pin(async move {
                // Unchanged addresses are not a move.
                let current =
                    dossier::household(conn, id, clock::today(), Visibility::default()).await?;
                let same = |new: &Option<AddressInput>, old: &Option<dossier::AddressView>| match (
                    new, old,
                ) {
                    (Some(n), Some(o)) => n.checked().is_ok_and(|n| {
                        n.line1 == o.line1
                            && n.line2 == o.line2
                            && n.postal_code == o.postal_code
                            && n.town == o.town
                    }),
                    _ => false,
                };
                let mut patch = patch;
                if same(&patch.address, &current.address) {
                    patch.address = None;
                }
                if same(&patch.billing_address, &current.billing_address) {
                    patch.billing_address = None;
                }
                store::update_household(conn, id, &patch, clock::today()).await
            })
        },
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PersonForm {
    last_name: String,
    first_name: String,
    sex: String,
    birth_date: String,
    email: String,
    phone: String,
    job: String,
    role: String,
}

pub(super) async fn add_adult(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<PersonForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let birth = date(&form.birth_date, "date de naissance");
    change(
        state,
        &city,
        &principal,
        &csrf,
        id,
        "L'adulte est ajouté au foyer.",
        move |conn| {
            Box::pin(async move {
                let input = AdultInput {
                    last_name: form.last_name,
                    first_name: form.first_name,
                    sex: some(&form.sex),
                    birth_date: birth?,
                    email: some(&form.email),
                    phone_mobile: some(&form.phone),
                    professional_situation: some(&form.job),
                    ..AdultInput::default()
                };
                let role = if form.role.is_empty() {
                    "partner"
                } else {
                    form.role.as_str()
                };
                store::add_adult(conn, id, &input, role, clock::today())
                    .await
                    .map(|_| ())
            })
        },
    )
    .await
}

pub(super) async fn add_child(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<PersonForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let birth = date(&form.birth_date, "date de naissance");
    change(
        state,
        &city,
        &principal,
        &csrf,
        id,
        "L'enfant est ajouté au foyer.",
        move |conn| {
            Box::pin(async move {
                let input = ChildInput {
                    last_name: form.last_name,
                    first_name: form.first_name,
                    sex: some(&form.sex),
                    birth_date: birth?,
                    ..ChildInput::default()
                };
                store::add_child(conn, id, &input, clock::today())
                    .await
                    .map(|_| ())
            })
        },
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct AttachForm {
    child_id: String,
    guardian: Option<String>,
}

/// A child already known in another household joins this one (shared custody): one
/// child, two households.
pub(super) async fn attach_child(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<AttachForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    change(
        state,
        &city,
        &principal,
        &csrf,
        id,
        "L'enfant est rattaché à ce foyer aussi (garde partagée).",
        move |conn| {
            Box::pin(async move {
                let child: i64 = form
                    .child_id
                    .trim()
                    .parse()
                    .map_err(|_| AppError::invalid("numéro d'enfant invalide"))?;
                store::require_household(conn, id).await?;
                store::require_child(conn, child)
                    .await
                    .map_err(|_| AppError::invalid("aucun enfant ne porte ce numéro"))?;
                store::link_child(conn, child, id, false, clock::today()).await?;
                if form.guardian.is_some() {
                    store::head_becomes_guardian(conn, child, id, clock::today()).await?;
                }
                Ok(())
            })
        },
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ReasonForm {
    pub(super) reason: String,
}

pub(super) async fn archive(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    change(
        state,
        &city,
        &principal,
        &csrf,
        id,
        "La famille est archivée.",
        move |conn| Box::pin(async move { store::archive(conn, id, &form.reason).await }),
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct Empty {}

pub(super) async fn reactivate(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    _: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    change(
        state,
        &city,
        &principal,
        &csrf,
        id,
        "La famille est de nouveau active.",
        move |conn| Box::pin(async move { store::reactivate(conn, id).await }),
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct IncomeForm {
    family_quotient: String,
    monthly_resources: String,
    dependent_children: String,
    source: String,
    valid_from: String,
}

pub(super) fn number<T: std::str::FromStr>(text: &str, what: &str) -> AppResult<Option<T>> {
    let text = text.trim().replace(' ', "");
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| AppError::invalid(format!("{what} invalide « {text} »")))
}

/// Euros as typed ("2 350,50") to cents.
pub(super) fn euros_to_cents(text: &str) -> AppResult<Option<i64>> {
    let text = text
        .trim()
        .replace([' ', '\u{a0}', '€'], "")
        .replace(',', ".");
    if text.is_empty() {
        return Ok(None);
    }
    let decimal: rust_decimal::Decimal = text
        .parse()
        .map_err(|_| AppError::invalid(format!("montant invalide « {text} »")))?;
    let cents = (decimal * rust_decimal::Decimal::from(100)).round();
    i64::try_from(cents)
        .map(Some)
        .map_err(|_| AppError::invalid("montant hors bornes"))
}

pub(super) async fn add_income(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<IncomeForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let author = principal.actor();
    change(
        state,
        &city,
        &principal,
        &csrf,
        id,
        "Le quotient familial est enregistré.",
        move |conn| {
            Box::pin(async move {
                let input = IncomeInput {
                    family_quotient: number(&form.family_quotient, "quotient familial")?,
                    monthly_resources: euros_to_cents(&form.monthly_resources)?,
                    dependent_children: number(
                        &form.dependent_children,
                        "nombre d'enfants à charge",
                    )?,
                    source: form.source,
                    valid_from: date(&form.valid_from, "date d'effet")?,
                    document_id: None,
                };
                store::add_income(conn, id, &input, &author, clock::today())
                    .await
                    .map(|_| ())
            })
        },
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct BankForm {
    holder_id: String,
    iban: String,
    bic: String,
}

pub(super) async fn add_bank(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<BankForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let key = state.keys.city_key(&city.key_id);
    change(
        state,
        &city,
        &principal,
        &csrf,
        id,
        "Les coordonnées bancaires sont enregistrées.",
        move |conn| {
            Box::pin(async move {
                store::require_household(conn, id).await?;
                let holder: i64 = form
                    .holder_id
                    .trim()
                    .parse()
                    .map_err(|_| AppError::invalid("titulaire du compte à choisir"))?;
                store::person_in_household(conn, holder, id).await?;
                bank::add_account(
                    conn,
                    &key,
                    id,
                    &BankInput {
                        holder_id: holder,
                        iban: form.iban,
                        bic: form.bic,
                    },
                )
                .await
                .map(|_| ())
            })
        },
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct MandateForm {
    rum: String,
    signed_on: String,
}

pub(super) async fn add_mandate(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<MandateForm>,
) -> AppResult<HttpResponse> {
    let (id, account) = path.into_inner();
    change(
        state,
        &city,
        &principal,
        &csrf,
        id,
        "Le mandat SEPA est enregistré.",
        move |conn| {
            Box::pin(async move {
                let owned = dossier::household(
                    conn,
                    id,
                    clock::today(),
                    Visibility {
                        bank: true,
                        ..Visibility::default()
                    },
                )
                .await?;
                if !owned
                    .bank_accounts
                    .unwrap_or_default()
                    .iter()
                    .any(|a| a.id == account)
                {
                    return Err(AppError::not_found(
                        "Compte bancaire introuvable pour cette famille.",
                    ));
                }
                let signed = date(&form.signed_on, "date de signature")?.ok_or_else(|| {
                    AppError::invalid("la date de signature du mandat est obligatoire")
                })?;
                bank::add_mandate(conn, account, Some(&form.rum), signed)
                    .await
                    .map(|_| ())
            })
        },
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct AccountForm {
    adult_id: String,
}

/// Opens a portal account for an adult of the household: generated identifier and a
/// temporary password shown once, to change at first sign-in.
pub(super) async fn open_account(
    state: State,
    CurrentCity(city): CurrentCity,
    principal: Principal,
    csrf: CsrfToken,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<AccountForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let temporary = crate::platform::auth::tokens::temporary_password();
    let hash = crate::platform::auth::passwords::hash(&temporary)?;
    let outcome = state
        .db
        .run(city.scope(&principal.actor()), move |conn| {
            Box::pin(async move {
                let adult: i64 = form
                    .adult_id
                    .parse()
                    .map_err(|_| AppError::invalid("choisissez l'adulte"))?;
                crate::domain::family::accounts::open_for_adult(conn, id, adult, &hash, true).await
            })
        })
        .await;
    match outcome {
        Ok(login) => {
            let created = json!({ "login": login, "password": temporary });
            render_household_with(
                &state,
                &city,
                &principal,
                &csrf,
                id,
                Some("Le compte portail est ouvert."),
                None,
                Some(created),
            )
            .await
        }
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            render_household(
                &state,
                &city,
                &principal,
                &csrf,
                id,
                None,
                Some(&error.to_string()),
            )
            .await
        }
        Err(other) => Err(other),
    }
}
