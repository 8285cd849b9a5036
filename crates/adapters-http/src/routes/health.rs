//! Probes for orchestrators: `/healthz` (the process answers) and `/readyz` (it can serve:
//! the database answers). Neither reveals anything beyond up or down.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::middleware::errors::KeepBody;
use crate::state::AppState;

pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let report = state.services.readiness.check().await;
    let database = if report.database { "up" } else { "down" };
    if report.ready() {
        Json(json!({ "status": "ready", "database": database })).into_response()
    } else {
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "database": database })),
        )
            .into_response();
        response.extensions_mut().insert(KeepBody);
        response
    }
}
