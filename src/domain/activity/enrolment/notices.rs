//! Who hears about a request and its decisions (POR-05): the child's guardians (as for a
//! place offered) and the portal accounts of the child's households. Read inside the
//! transaction that filed or decided the request; the caller mails once it has committed.

use super::*;

/// A request, or the decision taken on it, to tell the family about.
#[derive(Debug, Clone, Serialize)]
pub struct EnrolmentNotice {
    pub enrolment: EnrolmentView,
    /// The wished week in French, one line per day (« mercredi : Journée, Repas »).
    pub wished_week: Vec<String>,
    /// Addresses of the adults of the child's households now.
    pub guardian_emails: Vec<String>,
    /// Active portal accounts of the child's households (and the one that filed the
    /// request): (e-mail, profile), so the caller leaves out profiles without enrolments.
    pub accounts: Vec<(String, String)>,
}

#[derive(QueryableByName)]
struct AccountAddress {
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    profile_id: String,
}

/// What to tell the family about request `id`; `filer` is the portal account that filed
/// it, if any (told even when its household is not the child's any more).
pub async fn notice(conn: &mut Conn, id: i64, filer: Option<i64>) -> AppResult<EnrolmentNotice> {
    let enrolment = get(conn, id).await?;
    let units = super::super::model::units_of(conn, enrolment.activity_id).await?;
    let wished: BTreeMap<String, Vec<String>> =
        serde_json::from_value(enrolment.wished_week.clone()).unwrap_or_default();
    let wished_week = super::super::catalogue::WEEKDAYS
        .iter()
        .filter_map(|(_, code, name)| {
            let codes = wished.get(*code).filter(|c| !c.is_empty())?;
            let labels: Vec<&str> = codes
                .iter()
                .map(|c| {
                    units
                        .iter()
                        .find(|u| &u.code == c)
                        .map_or(c.as_str(), |u| u.label.as_str())
                })
                .collect();
            Some(format!("{name} : {}", labels.join(", ")))
        })
        .collect();
    let guardian_emails =
        crate::domain::family::dossier::guardian_emails(conn, enrolment.child_id).await?;
    let accounts: Vec<AccountAddress> = diesel::sql_query(
        "SELECT a.email, a.profile_id FROM family_accounts a
          WHERE a.active
            AND (a.id = $2
                 OR a.household_id = $3
                 OR a.household_id IN (SELECT l.household_id FROM child_links l
                                        WHERE l.child_id = $1 AND l.valid_to IS NULL))
          ORDER BY a.id = $2 DESC, a.id",
    )
    .bind::<BigInt, _>(enrolment.child_id)
    .bind::<diesel::sql_types::Nullable<BigInt>, _>(filer)
    .bind::<diesel::sql_types::Nullable<BigInt>, _>(enrolment.household_id)
    .load(conn)
    .await?;
    Ok(EnrolmentNotice {
        enrolment,
        wished_week,
        guardian_emails,
        accounts: accounts
            .into_iter()
            .map(|a| (a.email, a.profile_id))
            .collect(),
    })
}
