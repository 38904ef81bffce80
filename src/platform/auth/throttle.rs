//! Sign-in throttling, shared by every server through the database: each failure for a
//! login or an address doubles the delay before the answer (0.25 s, 0.5 s, 1 s... up to
//! 4 s); ten failures within fifteen minutes lock the key for fifteen minutes.

use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::login_throttle;
use crate::platform::db::Conn;
use crate::platform::error::AppResult;

const WINDOW_MINUTES: i32 = 15;
const LOCK_AFTER: i32 = 10;

/// Whether the keys may try now.
pub enum Gate {
    Open,
    Locked,
}

pub async fn gate(conn: &mut Conn, keys: &[String]) -> AppResult<Gate> {
    let locked: i64 = login_throttle::table
        .filter(login_throttle::key.eq_any(keys))
        .filter(login_throttle::locked_until.gt(Utc::now()))
        .count()
        .get_result(conn)
        .await?;
    Ok(if locked > 0 { Gate::Locked } else { Gate::Open })
}

/// Records a failure for every key; returns how long to wait before answering.
pub async fn failure(conn: &mut Conn, keys: &[String]) -> AppResult<Duration> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        failures: i32,
    }
    let mut worst = 0;
    for key in keys {
        // A failure older than the window starts the count again.
        let count: Count = diesel::sql_query(
            "INSERT INTO login_throttle AS t (key, failures, last_failure_at) VALUES ($1, 1, now())
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN t.last_failure_at < now() - make_interval(mins => $2)
                               THEN 1 ELSE t.failures + 1 END,
               last_failure_at = now(),
               locked_until = CASE WHEN t.last_failure_at >= now() - make_interval(mins => $2)
                                    AND t.failures + 1 >= $3
                                   THEN now() + make_interval(mins => $2) ELSE t.locked_until END
             RETURNING failures",
        )
        .bind::<diesel::sql_types::Text, _>(key)
        .bind::<diesel::sql_types::Integer, _>(WINDOW_MINUTES)
        .bind::<diesel::sql_types::Integer, _>(LOCK_AFTER)
        .get_result(conn)
        .await?;
        worst = worst.max(count.failures);
    }
    Ok(delay_after(worst))
}

/// A successful sign-in clears the login's count (not the address's).
pub async fn success(conn: &mut Conn, login_key: &str) -> AppResult<()> {
    diesel::delete(login_throttle::table.find(login_key))
        .execute(conn)
        .await?;
    Ok(())
}

fn delay_after(failures: i32) -> Duration {
    if failures <= 0 {
        return Duration::ZERO;
    }
    let exponent = (failures - 1).min(4) as u32;
    Duration::from_millis(250 * 2u64.pow(exponent))
}

#[cfg(test)]
mod tests {
    use super::delay_after;
    use std::time::Duration;

    #[test]
    fn delays_double_then_cap() {
        assert_eq!(delay_after(0), Duration::ZERO);
        assert_eq!(delay_after(1), Duration::from_millis(250));
        assert_eq!(delay_after(2), Duration::from_millis(500));
        assert_eq!(delay_after(5), Duration::from_secs(4));
        assert_eq!(delay_after(50), Duration::from_secs(4));
    }
}
