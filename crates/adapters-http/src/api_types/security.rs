//! The session's standing against the adaptive limit, and the CAPTCHA.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
