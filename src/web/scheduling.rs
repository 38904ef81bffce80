//! What the activity, booking and attendance handlers of every face share: the city's
//! activity settings, the shipped school calendar, the mails of places offered from a
//! waitlist (sent after the transaction that offered them has committed), and the sweeper
//! that passes an unanswered offer on to the next family when its deadline is over.

use serde_json::json;

use super::State;
use super::signin::send_mail;
use crate::domain::activity::enrolment::{self, EnrolmentOffer};
use crate::domain::activity::model::CitySettings;
use crate::domain::booking::store::{self, Calendar, Offer};
use crate::domain::calendar::holidays::shipped;
use crate::domain::settings::CATALOGUE;
use crate::platform::clock;
use crate::platform::error::AppResult;
use crate::platform::tenancy::{City, Status, list_cities};

/// How often `serve` looks for offers whose deadline is over.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// The activity settings in force in `city` (from the settings cache: no query).
pub async fn settings(state: &State, city: &City) -> AppResult<CitySettings> {
    let values = state
        .settings
        .in_force(&state.db, city, &CATALOGUE, clock::today())
        .await?;
    CitySettings::from_values(&values, &city.name)
}

/// Now, with the shipped school calendar.
pub fn calendar() -> Calendar<'static> {
    Calendar {
        school: shipped(),
        now: clock::now(),
    }
}

fn paris(instant: chrono::DateTime<chrono::Utc>) -> String {
    instant
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%d/%m/%Y à %H:%M")
        .to_string()
}

/// Tells the families a place is theirs if they want it. A mail that cannot be sent is
/// logged: the offer stands and the agents' task shows it.
pub async fn mail_offers(state: &State, city: &City, offers: &[Offer]) {
    for offer in offers {
        let data = json!({
            "child": offer.child_name,
            "activity": offer.activity,
            "unit": offer.unit_label,
            "date": offer.date.format("%d/%m/%Y").to_string(),
            "deadline": paris(offer.deadline),
        });
        for to in &offer.emails {
            if let Err(error) = send_mail(state, city, to, "mail/place_offered", &data).await {
                tracing::warn!(city = %city.slug, %error, "place offered: mail not sent");
            }
        }
    }
}

/// The same for a place in an activity (enrolment waitlist).
pub async fn mail_enrolment_offers(state: &State, city: &City, offers: &[EnrolmentOffer]) {
    for offer in offers {
        let data = json!({
            "child": offer.enrolment.child_name,
            "activity": offer.enrolment.activity,
            "number": offer.enrolment.number,
            "deadline": paris(offer.deadline),
        });
        for to in &offer.emails {
            if let Err(error) = send_mail(state, city, to, "mail/enrolment_offered", &data).await {
                tracing::warn!(city = %city.slug, %error, "enrolment offered: mail not sent");
            }
        }
    }
}

/// Expires the offers of every active city whose deadline is over and offers the places
/// to the next families, then mails them. Returns how many new offers were made.
pub async fn sweep_offers(state: &State) -> AppResult<usize> {
    let cities = state
        .db
        .run(
            crate::platform::db::Scope::Platform { actor: "système" },
            |conn| Box::pin(list_cities(conn)),
        )
        .await?;
    let mut made = 0;
    for (city, _) in cities
        .into_iter()
        .filter(|(c, _)| c.status == Status::Active)
    {
        let city_settings = settings(state, &city).await?;
        let calendar = calendar();
        let (places, enrolments) = state
            .db
            .run(city.scope("système"), |conn| {
                Box::pin(async move {
                    let places = store::expire_offers(conn, &calendar, &city_settings).await?;
                    let enrolments = enrolment::expire_offers(conn, calendar.now).await?;
                    Ok((places, enrolments))
                })
            })
            .await?;
        made += places.len() + enrolments.len();
        mail_offers(state, &city, &places).await;
        mail_enrolment_offers(state, &city, &enrolments).await;
    }
    Ok(made)
}

/// Runs [`sweep_offers`] every minute for as long as the server lives.
pub fn spawn_offer_sweeper(state: State) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(SWEEP_EVERY);
        loop {
            ticks.tick().await;
            if let Err(error) = sweep_offers(&state).await {
                tracing::warn!(%error, "expiration des propositions de place");
            }
        }
    });
}
