//! Queries on the city registry (`platform.cities`, `platform.city_hosts`).

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::{City, Env, Status, Theme};
use crate::platform::db::Conn;
use crate::platform::error::{AppError, AppResult};
use crate::platform::schema::{cities, city_hosts};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cities)]
pub struct CityRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub env: String,
    pub schema_name: String,
    pub status: String,
    pub theme: serde_json::Value,
    pub production_id: Option<i64>,
    pub key_id: String,
}

impl CityRow {
    fn into_city(self, hosts: Vec<String>) -> AppResult<City> {
        let theme: Theme = serde_json::from_value(self.theme).map_err(AppError::internal)?;
        Ok(City {
            id: self.id,
            env: self.env.parse()?,
            status: if self.status == "suspended" {
                Status::Suspended
            } else {
                Status::Active
            },
            slug: self.slug,
            name: self.name,
            schema: self.schema_name,
            key_id: self.key_id,
            theme,
            hosts,
        })
    }
}

pub struct NewCity<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub env: Env,
    pub schema: &'a str,
    pub theme: &'a Theme,
    pub hosts: &'a [String],
    pub production_id: Option<i64>,
}

/// The city serving `host`, if any.
pub async fn load_city_by_host(conn: &mut Conn, host: &str) -> AppResult<Option<City>> {
    let row: Option<CityRow> = cities::table
        .inner_join(city_hosts::table)
        .filter(city_hosts::host.eq(host))
        .select(CityRow::as_select())
        .first(conn)
        .await
        .optional()?;
    match row {
        Some(row) => {
            let hosts = hosts_of(conn, row.id).await?;
            Ok(Some(row.into_city(hosts)?))
        }
        None => Ok(None),
    }
}

pub async fn load_city_by_slug(conn: &mut Conn, slug: &str) -> AppResult<City> {
    let row: CityRow = cities::table
        .filter(cities::slug.eq(slug))
        .select(CityRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("ville inconnue « {slug} »")))?;
    let hosts = hosts_of(conn, row.id).await?;
    row.into_city(hosts)
}

/// Every city environment with its hosts and, for recette, the production slug.
pub async fn list_cities(conn: &mut Conn) -> AppResult<Vec<(City, Option<String>)>> {
    let rows: Vec<CityRow> = cities::table
        .order((cities::name, cities::env, cities::slug))
        .select(CityRow::as_select())
        .load(conn)
        .await?;
    let mut hosts: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (host, city_id) in city_hosts::table
        .select((city_hosts::host, city_hosts::city_id))
        .order(city_hosts::host)
        .load::<(String, i64)>(conn)
        .await?
    {
        hosts.entry(city_id).or_default().push(host);
    }
    let slugs: BTreeMap<i64, String> = rows.iter().map(|r| (r.id, r.slug.clone())).collect();
    rows.into_iter()
        .map(|row| {
            let production = row.production_id.and_then(|id| slugs.get(&id).cloned());
            let city_hosts = hosts.remove(&row.id).unwrap_or_default();
            Ok((row.into_city(city_hosts)?, production))
        })
        .collect()
}

async fn hosts_of(conn: &mut Conn, city_id: i64) -> AppResult<Vec<String>> {
    Ok(city_hosts::table
        .filter(city_hosts::city_id.eq(city_id))
        .select(city_hosts::host)
        .order(city_hosts::host)
        .load(conn)
        .await?)
}

/// Hosts among `hosts` already serving a city.
pub async fn hosts_in_use(conn: &mut Conn, hosts: &[String]) -> AppResult<Vec<String>> {
    Ok(city_hosts::table
        .filter(city_hosts::host.eq_any(hosts))
        .select(city_hosts::host)
        .load(conn)
        .await?)
}

pub async fn insert_city(conn: &mut Conn, new: NewCity<'_>) -> AppResult<i64> {
    let id: i64 = diesel::insert_into(cities::table)
        .values((
            cities::slug.eq(new.slug),
            cities::name.eq(new.name),
            cities::env.eq(new.env.as_str()),
            cities::schema_name.eq(new.schema),
            cities::theme.eq(serde_json::to_value(new.theme).map_err(AppError::internal)?),
            cities::production_id.eq(new.production_id),
        ))
        .returning(cities::id)
        .get_result(conn)
        .await?;
    let rows: Vec<_> = new
        .hosts
        .iter()
        .map(|h| (city_hosts::host.eq(h), city_hosts::city_id.eq(id)))
        .collect();
    diesel::insert_into(city_hosts::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(id)
}

pub async fn set_status(conn: &mut Conn, slug: &str, status: Status) -> AppResult<()> {
    let updated = diesel::update(cities::table.filter(cities::slug.eq(slug)))
        .set((
            cities::status.eq(status.as_str()),
            cities::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    if updated == 0 {
        return Err(AppError::not_found(format!("ville inconnue « {slug} »")));
    }
    Ok(())
}
