//! The bodies of the JSON API, as types: handlers return them, and the OpenAPI document is
//! generated from them, so the description cannot drift from the answers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wildid_ports::services::admin::UserSummary;
use wildid_ports::services::profile::Profile;

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

/// `GET /api/security/status` (seed §6, §7).
#[derive(Serialize, ToSchema)]
pub(crate) struct SecurityStatus {
    /// The session's anti-forgery token.
    pub csrf_token: String,
    /// Whether CAPTCHAs are on.
    pub captcha_enabled: bool,
    /// `proof_of_work` or `arithmetic`.
    pub captcha_kind: Option<String>,
    /// Identifications per window before a CAPTCHA is required.
    pub rate_limit_threshold: u32,
    /// Window length.
    pub rate_limit_window_seconds: i64,
    /// Identifications counted in this window (0 when the window is over).
    pub request_count: u32,
    /// Identifications that go through before this session is held (untrusted) or refused
    /// (the network's ceiling): the tightest of its own allowance, its network's count of
    /// untrusted identifications and the network's ceiling.
    pub identifications_left: u32,
    /// A CAPTCHA is required before the next identification (the session's own count, or
    /// its network's).
    pub rate_limited: bool,
    /// The session passed a CAPTCHA.
    pub is_trusted: bool,
    /// Signed in.
    pub authenticated: bool,
}

/// `POST /api/security/captcha`: a challenge to solve (seed §7).
#[derive(Serialize, ToSchema)]
pub(crate) struct CaptchaIssued {
    /// What the answer must name.
    pub captcha_id: String,
    /// `proof_of_work` or `arithmetic`.
    pub kind: String,
    /// Seconds until the challenge expires.
    pub expires_in: i64,
    /// The question (arithmetic only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// The ALTCHA challenge (proof of work only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<AltchaChallenge>,
}

/// An ALTCHA challenge: find `number` in `0..=maxnumber` with
/// `hex(SHA-256(salt ‖ number)) == challenge`, then answer with the base64 of
/// `{"algorithm","challenge","number","salt","signature"}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct AltchaChallenge {
    /// Always `SHA-256`.
    pub algorithm: String,
    /// Hex digest to match.
    pub challenge: String,
    /// Upper bound of the number.
    pub maxnumber: u64,
    /// Salt (with its `?expires=` parameter).
    pub salt: String,
    /// The server's HMAC of `challenge`.
    pub signature: String,
}

/// `POST /api/security/verify`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaptchaAnswer {
    /// From `POST /api/security/captcha`.
    pub captcha_id: String,
    /// The arithmetic answer (number or text), or the ALTCHA payload.
    pub answer: AnswerValue,
}

/// An answer as a JSON string or number.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum AnswerValue {
    /// Text (an ALTCHA payload, or digits).
    Text(String),
    /// A number (arithmetic).
    Number(i64),
}

impl AnswerValue {
    pub(crate) fn as_text(&self) -> String {
        match self {
            AnswerValue::Text(t) => t.clone(),
            AnswerValue::Number(n) => n.to_string(),
        }
    }
}

/// The CAPTCHA was passed: the session is trusted now.
#[derive(Serialize, ToSchema)]
pub(crate) struct CaptchaPassed {
    /// Always `true`.
    pub success: bool,
    /// The session's state after passing.
    pub status: SecurityStatus,
}

/// The CAPTCHA was not passed.
#[derive(Serialize, ToSchema)]
pub(crate) struct CaptchaFailed {
    /// Always `false`.
    pub success: bool,
    /// `incorrect_answer`, `too_many_attempts`, `expired` or `unknown_captcha`.
    pub error: String,
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

/// What the provider said about the photo (every text cleaned of markup and bounded).
#[derive(Serialize, ToSchema)]
pub(crate) struct SpeciesView {
    /// Whether the photo shows an animal.
    pub is_animal: bool,
    /// Scientific name, or `Unknown`.
    pub species: String,
    /// Common name, or `Unknown`.
    pub common_name: String,
    /// Broad group: bird, mammal, reptile...
    pub animal_type: Option<String>,
    /// IUCN Red List category as the provider stated it.
    pub conservation_status: Option<String>,
    /// `low`, `medium` or `high`.
    pub confidence: String,
    /// What is visible.
    pub description: Option<String>,
    /// Uncertainties; says so when the provider's answer was not in the expected format.
    pub notes: Option<String>,
    /// The answers the provider ranked highest, most likely first (the offline model gives
    /// its top five); empty when the provider gives one answer only.
    pub alternatives: Vec<AlternativeView>,
}

/// One ranked answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct AlternativeView {
    /// Common name (or what the thing is, when it is no animal).
    pub common_name: String,
    /// Scientific name, when known.
    pub species: Option<String>,
    /// How likely the provider found it, from 0 to 1 (four decimals at most).
    pub probability: f32,
}

impl From<&wildid_domain::identification::SpeciesResult> for SpeciesView {
    fn from(r: &wildid_domain::identification::SpeciesResult) -> Self {
        let text =
            |t: &Option<wildid_domain::text::PlainText>| t.as_ref().map(|t| t.as_str().to_owned());
        Self {
            is_animal: r.is_animal,
            species: r.species.as_str().to_owned(),
            common_name: r.common_name.as_str().to_owned(),
            animal_type: text(&r.animal_type),
            conservation_status: text(&r.conservation_status),
            confidence: r.confidence.as_str().to_owned(),
            description: text(&r.description),
            notes: text(&r.notes),
            alternatives: r
                .alternatives
                .iter()
                .map(|a| AlternativeView {
                    common_name: a.common_name.as_str().to_owned(),
                    species: text(&a.species),
                    probability: a.probability.fraction(),
                })
                .collect(),
        }
    }
}

/// The photo as the provider saw it.
#[derive(Serialize, ToSchema)]
pub(crate) struct PhotoView {
    /// Format of the upload, found by decoding it: `image/png`, `image/jpeg`...
    pub uploaded_as: String,
    /// Width sent to the provider (photos are scaled down to at most 2048 pixels on the long
    /// side and 768 on the short side).
    pub width: u32,
    /// Height sent to the provider.
    pub height: u32,
    /// SHA-256 (hex) of the upload as received.
    pub sha256: String,
}

/// `POST /api/identify`.
#[derive(Serialize, ToSchema)]
pub(crate) struct IdentificationBody {
    /// The journal entry it was kept as (`GET /api/identifications/{id}`); `null` when the
    /// session is not signed in (anonymous identifications are not kept).
    pub id: Option<String>,
    /// The answer.
    pub identification: SpeciesView,
    /// The provider's configured name.
    pub provider: String,
    /// The photo.
    pub photo: PhotoView,
    /// The session against the adaptive limit, after this identification was counted.
    pub status: SecurityStatus,
}
