//! The catalogue as it is read: the sites taking bookings (and every site, for admins) and
//! the kinds of visit.

use axum::Json;
use axum::extract::State;

use super::views::{ServiceView, SiteView};
use crate::api_types::ErrorBody;
use crate::error::AppError;
use crate::state::AppState;

/// Sites taking bookings, by name.
#[utoipa::path(get, path = "/api/sites", tag = "visits",
    responses((status = 200, body = Vec<SiteView>)))]
pub(crate) async fn sites(State(state): State<AppState>) -> Result<Json<Vec<SiteView>>, AppError> {
    let sites = state.services.catalogue.sites(true).await?;
    Ok(Json(sites.iter().map(SiteView::from).collect()))
}

/// Every site, open or closed (admins).
#[utoipa::path(get, path = "/api/admin/sites", tag = "visits",
    responses((status = 200, body = Vec<SiteView>), (status = 403, body = ErrorBody)))]
pub(crate) async fn all_sites(
    State(state): State<AppState>,
) -> Result<Json<Vec<SiteView>>, AppError> {
    let sites = state.services.catalogue.sites(false).await?;
    Ok(Json(sites.iter().map(SiteView::from).collect()))
}

/// The kinds of visit offered, by name.
#[utoipa::path(get, path = "/api/services", tag = "visits",
    responses((status = 200, body = Vec<ServiceView>)))]
pub(crate) async fn services(
    State(state): State<AppState>,
) -> Result<Json<Vec<ServiceView>>, AppError> {
    let services = state.services.catalogue.services().await?;
    Ok(Json(services.iter().map(ServiceView::from).collect()))
}
