//! The catalogue of field visits: `SiteRepository` (the wildlife sites) and
//! `ServiceTypeRepository` (the kinds of visit offered), one row per entry in `sites` and
//! `service_types`, both unique by their name in lower case.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::ids::{ServiceTypeId, SiteId};
use wildid_domain::sighting::Area;
use wildid_domain::text::PlainText;
use wildid_domain::visits::{ServiceType, Site};
use wildid_ports::RepoError;
use wildid_ports::repo::{ServiceTypeRepository, SiteRepository};

use super::{SqlVisits, small};
use crate::error::{corrupt, found, repo_error};
use crate::pool::{with_conn, with_write_conn};
use crate::schema::{service_types, sites};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sites)]
#[diesel(treat_none_as_null = true)]
struct SiteRow {
    id: String,
    name: String,
    name_key: String,
    description: Option<String>,
    south: i32,
    west: i32,
    north: i32,
    east: i32,
    active: bool,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = service_types)]
struct ServiceRow {
    id: String,
    name: String,
    name_key: String,
    duration_minutes: i32,
    capacity: i32,
}

/// The key names are unique by: lower case.
fn name_key(name: &PlainText) -> String {
    name.as_str().to_lowercase()
}

fn site_row(site: &Site) -> SiteRow {
    let area = site.area();
    SiteRow {
        id: site.id().to_string(),
        name: site.name().as_str().to_owned(),
        name_key: name_key(site.name()),
        description: site.description().map(|d| d.as_str().to_owned()),
        south: area.south(),
        west: area.west(),
        north: area.north(),
        east: area.east(),
        active: site.is_active(),
    }
}

fn site(row: SiteRow) -> Result<Site, RepoError> {
    let area = Area::from_micro(row.south, row.west, row.north, row.east)
        .map_err(|_| corrupt("sites.area"))?;
    let id = SiteId::parse(&row.id).map_err(|_| corrupt("sites.id"))?;
    Site::new(
        id,
        &row.name,
        row.description.as_deref().unwrap_or(""),
        area,
        row.active,
    )
    .map_err(|_| corrupt("sites"))
}

fn service_row(service: &ServiceType) -> ServiceRow {
    ServiceRow {
        id: service.id().to_string(),
        name: service.name().as_str().to_owned(),
        name_key: name_key(service.name()),
        duration_minutes: small(service.duration_minutes()),
        capacity: small(service.capacity()),
    }
}

fn service(row: ServiceRow) -> Result<ServiceType, RepoError> {
    let id = ServiceTypeId::parse(&row.id).map_err(|_| corrupt("service_types.id"))?;
    let minutes = u32::try_from(row.duration_minutes).map_err(|_| corrupt("service_types"))?;
    let capacity = u32::try_from(row.capacity).map_err(|_| corrupt("service_types"))?;
    ServiceType::new(id, &row.name, minutes, capacity).map_err(|_| corrupt("service_types"))
}

// The statements sites and service types share, on a table `$table` whose key column is `id`.
// Macros rather than generic functions: the bounds diesel puts on a table and a row type for
// both backends are longer than the statements.

/// Inserts `$row` (a reference to a row) into `$table`.
macro_rules! insert_row {
    ($db:expr, $table:ident, $row:expr) => {
        with_write_conn!($db, |conn| {
            diesel::insert_into($table::table)
                .values($row)
                .execute(conn)
                .await
                .map_err(repo_error)?
        })
    };
}

/// The row of type `$row_type` whose key is `$id` (a reference); `NotFound` when there is none.
macro_rules! row_by_id {
    ($db:expr, $table:ident, $row_type:ty, $id:expr) => {
        with_conn!($db, |conn| {
            $table::table
                .find($id)
                .select(<$row_type>::as_select())
                .get_result::<$row_type>(conn)
                .await
                .map_err(repo_error)?
        })
    };
}

/// Rewrites the row with `$row`'s key as `$row`; `NotFound` when there is none.
macro_rules! update_row {
    ($db:expr, $table:ident, $row:ident) => {
        found(with_write_conn!($db, |conn| {
            diesel::update($table::table.find(&$row.id))
                .set(&$row)
                .execute(conn)
                .await
                .map_err(repo_error)?
        }))
    };
}

#[async_trait]
impl SiteRepository for SqlVisits {
    async fn insert(&self, site: &Site) -> Result<(), RepoError> {
        let row = site_row(site);
        insert_row!(self.db, sites, &row);
        Ok(())
    }

    async fn get(&self, id: SiteId) -> Result<Site, RepoError> {
        let id = id.to_string();
        site(row_by_id!(self.db, sites, SiteRow, &id))
    }

    async fn list(&self, active_only: bool) -> Result<Vec<Site>, RepoError> {
        let rows: Vec<SiteRow> = with_conn!(self.db, |conn| {
            let mut query = sites::table.into_boxed();
            if active_only {
                query = query.filter(sites::active.eq(true));
            }
            query
                .order(sites::name_key.asc())
                .select(SiteRow::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        rows.into_iter().map(site).collect()
    }

    async fn update(&self, site: &Site) -> Result<(), RepoError> {
        let row = site_row(site);
        update_row!(self.db, sites, row)
    }
}

#[async_trait]
impl ServiceTypeRepository for SqlVisits {
    async fn insert(&self, service: &ServiceType) -> Result<(), RepoError> {
        let row = service_row(service);
        insert_row!(self.db, service_types, &row);
        Ok(())
    }

    async fn get(&self, id: ServiceTypeId) -> Result<ServiceType, RepoError> {
        let id = id.to_string();
        service(row_by_id!(self.db, service_types, ServiceRow, &id))
    }

    async fn list(&self) -> Result<Vec<ServiceType>, RepoError> {
        let rows: Vec<ServiceRow> = with_conn!(self.db, |conn| {
            service_types::table
                .order(service_types::name_key.asc())
                .select(ServiceRow::as_select())
                .load(conn)
                .await
                .map_err(repo_error)?
        });
        rows.into_iter().map(service).collect()
    }

    async fn update(&self, service: &ServiceType) -> Result<(), RepoError> {
        let row = service_row(service);
        update_row!(self.db, service_types, row)
    }
}
