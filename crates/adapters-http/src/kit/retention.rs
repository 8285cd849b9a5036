//! The retention purge an admin asks for, shared by the page and the JSON route.

use wildid_domain::audit::Actor;
use wildid_ports::services::visits::{PurgeRun, Purged};

use crate::error::{AppError, purge_running};
use crate::kit::requester;
use crate::session::{SignedIn, Viewer};
use crate::state::AppState;

/// Runs the purge now as `signed_in`, from the request `viewer` made (its audit entry says
/// where from); a purge running in another process is a 409.
pub(crate) async fn purge_now(
    state: &AppState,
    viewer: &Viewer,
    signed_in: &SignedIn,
) -> Result<Purged, AppError> {
    match state
        .services
        .retention
        .purge_now(Actor::User(signed_in.user.id()), requester(viewer).origin())
        .await?
    {
        PurgeRun::Purged(purged) => Ok(purged),
        PurgeRun::Busy | PurgeRun::NotDue => Err(purge_running()),
    }
}
