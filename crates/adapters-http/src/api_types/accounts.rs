//! A user's own account, their sessions and second factor.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wildid_ports::services::profile::Profile;

/// A user's own account.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserView {
    /// Id (UUID).
    pub id: String,
    /// Address.
    pub email: String,
    /// `visitor`, `worker` or `admin`.
    pub role: String,
    /// Address confirmed.
    pub email_verified: bool,
    /// Second factor enrolled.
    pub totp_enabled: bool,
    /// A password is set.
    pub has_password: bool,
    /// RFC 3339.
    pub created_at: String,
    /// The name the user chose to be shown by (plain text), or null.
    pub display_name: Option<String>,
}

impl From<&Profile> for UserView {
    fn from(p: &Profile) -> Self {
        Self {
            id: p.id.to_string(),
            email: p.email.clone(),
            role: p.role.as_str().to_owned(),
            email_verified: p.email_verified,
            totp_enabled: p.totp_enabled,
            has_password: p.has_password,
            created_at: p.created_at.to_rfc3339(),
            display_name: p.display_name.clone(),
        }
    }
}

/// A new display name.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DisplayNameRequest {
    /// Required: plain text of at most 60 characters (markup and control characters are
    /// removed), or null or a blank string to clear the name. A body without the field is
    /// refused rather than read as "clear".
    #[schema(value_type = Option<String>, required = true)]
    #[serde(deserialize_with = "present_string_or_null")]
    pub display_name: Option<String>,
}

/// Reads a field that must be present and be a string or null. With a plain `Option`, serde
/// would read a missing field as null.
fn present_string_or_null<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(deserializer)
}

/// The display name now stored.
#[derive(Serialize, ToSchema)]
pub(crate) struct DisplayNameBody {
    /// The cleaned name, or null when none is set.
    pub display_name: Option<String>,
}

/// A new session: the user and the session's anti-forgery token.
#[derive(Serialize, ToSchema)]
pub(crate) struct SignedInBody {
    /// The user.
    pub user: UserView,
    /// Send it as `X-CSRF-Token` with every state-changing request of this session.
    pub csrf_token: String,
}

/// `GET /api/auth/me`.
#[derive(Serialize, ToSchema)]
pub(crate) struct MeBody {
    /// The user.
    pub user: UserView,
    /// Last authentication (RFC 3339).
    pub authenticated_at: Option<String>,
}

/// A credential changed: the session id was replaced, with a new token.
#[derive(Serialize, ToSchema)]
pub(crate) struct ConfirmedBody {
    /// `confirmed`, `changed`, `disabled`.
    pub status: String,
    /// The new session's anti-forgery token.
    pub csrf_token: String,
}

/// One session of the user.
#[derive(Serialize, ToSchema)]
pub(crate) struct SessionView {
    /// Opaque id (to revoke it).
    pub id: String,
    /// Browser and system.
    pub device: Option<String>,
    /// Coarse network (IPv4 /24, IPv6 /48).
    pub network: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub last_seen_at: String,
    /// The session making this request.
    pub current: bool,
}

/// `GET /api/account/sessions`.
#[derive(Serialize, ToSchema)]
pub(crate) struct SessionsBody {
    /// Most recently active first.
    pub sessions: Vec<SessionView>,
}

/// How many sessions ended.
#[derive(Serialize, ToSchema)]
pub(crate) struct EndedBody {
    /// Count.
    pub ended: u64,
}

/// A second factor to enrol.
#[derive(Serialize, ToSchema)]
pub(crate) struct TotpSetupBody {
    /// Send back with the first code (valid 15 minutes).
    pub pending: String,
    /// The secret in base32.
    pub secret: String,
    /// For a QR code.
    pub otpauth_url: String,
}

/// The second factor is on; the recovery codes are in this answer only.
#[derive(Serialize, ToSchema)]
pub(crate) struct TotpEnabledBody {
    /// `enabled`.
    pub status: String,
    /// Ten one-time codes.
    pub recovery_codes: Vec<String>,
    /// The new session's anti-forgery token.
    pub csrf_token: String,
}

/// New recovery codes (the old ones no longer work).
#[derive(Serialize, ToSchema)]
pub(crate) struct RecoveryCodesBody {
    /// Ten one-time codes.
    pub recovery_codes: Vec<String>,
}
