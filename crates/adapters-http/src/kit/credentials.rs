//! What follows a change of credentials, for pages and JSON alike: the session id replaced and,
//! when asked, the person's other sessions ended.

use wildid_domain::audit::Actor;
use wildid_domain::session::SessionKey;
use wildid_ports::services::accounts::Requester;

use crate::error::AppError;
use crate::session::SignedIn;
use crate::state::AppState;

/// A credential changed: the session id is replaced (privilege change) and, if asked, every
/// other session ends. Returns the new CSRF token.
pub(crate) async fn after_credential_change(
    state: &AppState,
    signed_in: SignedIn,
    end_others: bool,
) -> Result<String, AppError> {
    // A refresh checks no credential and audits nothing, so no client address is needed.
    let at = signed_in.handle.place(Requester {
        ip: None,
        request_id: signed_in.handle.client().request_id,
    });
    let signed = state
        .services
        .sign_ins
        .refresh(signed_in.user.id(), &at)
        .await?;
    let session = signed_in.handle.adopt(signed);
    if end_others {
        end_other_sessions(state, &signed_in, session.key()).await?;
    }
    Ok(session.csrf().encode())
}

/// Ends every session of the signed-in user but `keep`; returns how many ended.
pub(crate) async fn end_other_sessions(
    state: &AppState,
    signed_in: &SignedIn,
    keep: SessionKey,
) -> Result<u64, AppError> {
    let id = signed_in.user.id();
    Ok(state
        .services
        .sessions
        .revoke_others(
            Actor::User(id),
            id,
            Some(keep),
            signed_in.handle.client().origin(),
        )
        .await?)
}
