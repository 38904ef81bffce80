//! What every new city schema starts with beyond its migrations, and where its personal
//! data lives (for anonymised copies).

use futures_util::future::BoxFuture;

use crate::platform::db::Conn;
use crate::platform::error::AppResult;
use crate::platform::settings::{default_versions, insert_versions};
use crate::platform::tenancy::City;
use crate::platform::tenancy::anonymise::Rule;
use crate::platform::tenancy::provisioning::Blueprint;

pub struct CityBlueprint;

pub static CITY_BLUEPRINT: CityBlueprint = CityBlueprint;

/// Columns holding personal data, table by table; every area adds its own.
static PERSONAL_DATA: &[Rule] = &[];

impl Blueprint for CityBlueprint {
    fn install_defaults<'c>(
        &'c self,
        conn: &'c mut Conn,
        _city: &'c City,
    ) -> BoxFuture<'c, AppResult<()>> {
        Box::pin(async move {
            let versions = default_versions(&super::settings::CATALOGUE);
            insert_versions(conn, &versions).await?;
            crate::platform::auth::authz::install_defaults(conn).await
        })
    }

    fn personal_data(&self) -> &'static [Rule] {
        PERSONAL_DATA
    }
}
