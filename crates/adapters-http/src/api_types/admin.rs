//! Accounts as admins see them.

use serde::Serialize;
use utoipa::ToSchema;
use wildid_ports::services::admin::UserSummary;

/// An account as admins see it.
#[derive(Serialize, ToSchema)]
pub(crate) struct AdminUserView {
    /// Id.
    pub id: String,
    /// Address.
    pub email: String,
    /// Role.
    pub role: String,
    /// Not deactivated.
    pub active: bool,
    /// Address confirmed.
    pub email_verified: bool,
    /// Second factor enrolled.
    pub totp_enabled: bool,
    /// Password sign-in locked until (RFC 3339).
    pub locked_until: Option<String>,
    /// RFC 3339.
    pub last_login_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&UserSummary> for AdminUserView {
    fn from(u: &UserSummary) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.clone(),
            role: u.role.as_str().to_owned(),
            active: u.active,
            email_verified: u.email_verified,
            totp_enabled: u.totp_enabled,
            locked_until: u.locked_until.map(|t| t.to_rfc3339()),
            last_login_at: u.last_login_at.map(|t| t.to_rfc3339()),
            created_at: u.created_at.to_rfc3339(),
        }
    }
}

/// `GET /api/admin/users`.
#[derive(Serialize, ToSchema)]
pub(crate) struct AdminUsersBody {
    /// Oldest first.
    pub users: Vec<AdminUserView>,
}
