//! The bodies of the JSON API, as types: handlers return them, and the OpenAPI document is
//! generated from them, so the description cannot drift from the answers. The bodies every
//! area shares are here; the others are in a file per area.

mod accounts;
mod admin;
mod identify;
mod journal;
mod security;

use serde::Serialize;
use utoipa::ToSchema;

pub(crate) use accounts::{
    ConfirmedBody, DisplayNameBody, DisplayNameRequest, EndedBody, MeBody, RecoveryCodesBody,
    SessionView, SessionsBody, SignedInBody, TotpEnabledBody, TotpSetupBody, UserView,
};
pub(crate) use admin::{AdminUserView, AdminUsersBody};
pub(crate) use identify::{IdentificationBody, PhotoView, SpeciesView};
pub(crate) use journal::EntryView;
pub(crate) use security::{
    AltchaChallenge, CaptchaAnswer, CaptchaFailed, CaptchaIssued, CaptchaPassed, SecurityStatus,
};

/// Every error under `/api`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// Stable snake_case code, e.g. `invalid_email`, `csrf_failed`, `too_many_requests`.
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
}

/// An accepted request (202), phrased the same whatever the outcome behind it.
#[derive(Serialize, ToSchema)]
pub(crate) struct Accepted {
    /// `verification_sent` or `link_sent`.
    pub status: String,
    /// For people.
    pub message: String,
}

/// A plain outcome.
#[derive(Serialize, ToSchema)]
pub(crate) struct Done {
    /// `verified`, `changed`, `unlocked`, `disabled`...
    pub status: String,
}
