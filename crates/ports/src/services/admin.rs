//! Administration of accounts: roles, deactivation, lifting a lockout and
//! ending a user's sessions. Every change is audited with the acting admin. A change of role
//! or of the active flag ends the user's sessions (a privilege change must not ride on an old
//! session id). Admins cannot demote or deactivate themselves, so the last admin cannot lock
//! everyone out by mistake.

use std::sync::Arc;

use wildid_domain::Timestamp;
use wildid_domain::audit::{Action, Actor, AuditDetails, AuditRecord};
use wildid_domain::email::Email;
use wildid_domain::ids::UserId;
use wildid_domain::lockout::LockoutState;
use wildid_domain::role::Role;
use wildid_domain::user::User;

use crate::RepoError;
use crate::clock::Clock;
use crate::crypto::{EmailIndex, FieldCipher};
use crate::repo::{Page, SessionRepository, UserRepository};
use crate::services::accounts::Requester;
use crate::services::audit::AuditTrail;

/// What an admin sees of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    /// The account, as the admin routes name it.
    pub id: UserId,
    /// Address (decrypted; shown to admins only).
    pub email: String,
    /// What the account may do (visitor, worker, admin).
    pub role: Role,
    /// Not deactivated.
    pub active: bool,
    /// Address confirmed.
    pub email_verified: bool,
    /// Second factor enrolled.
    pub totp_enabled: bool,
    /// Password sign-in locked until.
    pub locked_until: Option<Timestamp>,
    /// Last sign-in.
    pub last_login_at: Option<Timestamp>,
    /// When the account was registered.
    pub created_at: Timestamp,
}

/// Who deletes an account ([`Admin::delete_account`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleter {
    /// The account's own person.
    Owner,
    /// An admin (this one).
    Admin(UserId),
    /// The operator, from the command line.
    Operator,
}

/// Why an admin action was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No such account.
    #[error("no such account")]
    NotFound,
    /// Admins cannot demote or deactivate themselves.
    #[error(
        "you cannot remove your own admin role, deactivate yourself or delete your own account here"
    )]
    SelfChange,
    /// A dependency failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<RepoError> for AdminError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => AdminError::NotFound,
            other => AdminError::Unavailable(other.to_string()),
        }
    }
}

/// The admin use cases.
#[derive(Clone)]
pub struct Admin {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    cipher: Arc<dyn FieldCipher>,
    emails: Arc<dyn EmailIndex>,
    audit: AuditTrail,
    clock: Arc<dyn Clock>,
}

impl Admin {
    /// Over its ports.
    pub fn new(
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionRepository>,
        cipher: Arc<dyn FieldCipher>,
        emails: Arc<dyn EmailIndex>,
        audit: AuditTrail,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            users,
            sessions,
            cipher,
            emails,
            audit,
            clock,
        }
    }

    /// Accounts, oldest first.
    ///
    /// # Errors
    /// [`AdminError::Unavailable`].
    pub async fn list(&self, page: Page) -> Result<Vec<UserSummary>, AdminError> {
        let now = self.clock.now();
        let users = self.users.list(page).await?;
        Ok(users.iter().map(|u| self.summary(u, now)).collect())
    }

    /// The account `target`.
    ///
    /// # Errors
    /// [`AdminError::NotFound`] when there is none; [`AdminError::Unavailable`].
    pub async fn find(&self, target: UserId) -> Result<UserSummary, AdminError> {
        let user = self.users.get(target).await?;
        Ok(self.summary(&user, self.clock.now()))
    }

    /// The account registered under `email`, found through the keyed lookup (addresses are
    /// stored encrypted); `None` when there is none.
    ///
    /// # Errors
    /// [`AdminError::Unavailable`].
    pub async fn find_by_email(&self, email: &Email) -> Result<Option<UserSummary>, AdminError> {
        let user =
            crate::services::email_rekey::locate(self.users.as_ref(), self.emails.as_ref(), email)
                .await?
                .user;
        Ok(user.map(|u| self.summary(&u, self.clock.now())))
    }

    /// What an admin sees of `u` at `now` (a lock that has run out is no lock).
    fn summary(&self, u: &User, now: Timestamp) -> UserSummary {
        UserSummary {
            id: u.id(),
            email: self
                .cipher
                .decrypt(u.email_encrypted())
                .ok()
                .and_then(|b| String::from_utf8(b.expose().clone()).ok())
                .unwrap_or_else(|| "(undecryptable)".into()),
            role: u.role(),
            active: u.is_active(),
            email_verified: u.email_verified_at().is_some(),
            totp_enabled: u.has_totp(),
            locked_until: u.lockout().locked_until.filter(|t| *t > now),
            last_login_at: u.last_login_at(),
            created_at: u.created_at(),
        }
    }

    /// Gives `target` a role; their sessions end.
    ///
    /// # Errors
    /// [`AdminError`].
    pub async fn set_role(
        &self,
        actor: Actor,
        target: UserId,
        role: Role,
        who: Requester,
    ) -> Result<(), AdminError> {
        if actor == Actor::User(target) && role != Role::Admin {
            return Err(AdminError::SelfChange);
        }
        let before = self.users.get(target).await?;
        if before.role() == role {
            return Ok(());
        }
        self.users.set_role(target, role).await?;
        let ended = self.sessions.delete_for_user(target, None).await?;
        let details = AuditDetails::new()
            .with("from", before.role().as_str())
            .with("to", role.as_str())
            .with("sessions_ended", ended.to_string());
        self.record(actor, Action::UserRoleChanged, target, details, who)
            .await;
        Ok(())
    }

    /// Deactivates (their sessions end at once) or reactivates `target`.
    ///
    /// # Errors
    /// [`AdminError`].
    pub async fn set_active(
        &self,
        actor: Actor,
        target: UserId,
        active: bool,
        who: Requester,
    ) -> Result<(), AdminError> {
        if actor == Actor::User(target) && !active {
            return Err(AdminError::SelfChange);
        }
        self.users.set_active(target, active).await?;
        let mut details = AuditDetails::new();
        if !active {
            let ended = self.sessions.delete_for_user(target, None).await?;
            details = details.with("sessions_ended", ended.to_string());
        }
        self.record(
            actor,
            if active {
                Action::UserReactivated
            } else {
                Action::UserDeactivated
            },
            target,
            details,
            who,
        )
        .await;
        Ok(())
    }

    /// Lifts a password lockout.
    ///
    /// # Errors
    /// [`AdminError`].
    pub async fn unlock(
        &self,
        actor: Actor,
        target: UserId,
        who: Requester,
    ) -> Result<(), AdminError> {
        loop {
            let user = self.users.get(target).await?;
            if self
                .users
                .swap_lockout(target, user.lockout(), LockoutState::default())
                .await?
            {
                break;
            }
        }
        self.record(
            actor,
            Action::LockoutLifted,
            target,
            AuditDetails::new(),
            who,
        )
        .await;
        Ok(())
    }

    /// Ends every session of `target`; returns how many.
    ///
    /// # Errors
    /// [`AdminError`].
    pub async fn end_sessions(
        &self,
        actor: Actor,
        target: UserId,
        who: Requester,
    ) -> Result<u64, AdminError> {
        self.users.get(target).await?;
        let ended = self.sessions.delete_for_user(target, None).await?;
        self.record(
            actor,
            Action::SessionRevoked,
            target,
            AuditDetails::new()
                .with("scope", "all")
                .with("count", ended.to_string()),
            who,
        )
        .await;
        Ok(ended)
    }

    /// Deletes `target`'s account and everything in it (identifications, photos, feedback,
    /// sessions, sign-in links, recovery codes, bookings) in one transaction
    /// (`UserRepository::delete`). The audit log keeps the event with the account's opaque id
    /// and who deleted it, nothing personal. `by` says who asks: the person themselves (from
    /// their account page), an admin (never their own account, as for roles: the last admin
    /// must not vanish by a slip), or the operator at the shell.
    ///
    /// # Errors
    /// [`AdminError::NotFound`], [`AdminError::SelfChange`], or a storage failure.
    pub async fn delete_account(
        &self,
        by: Deleter,
        target: UserId,
        who: Requester,
    ) -> Result<(), AdminError> {
        let (actor, deleted_by) = match by {
            Deleter::Owner => (Actor::User(target), "self"),
            Deleter::Admin(admin) if admin == target => return Err(AdminError::SelfChange),
            Deleter::Admin(admin) => (Actor::User(admin), "admin"),
            Deleter::Operator => (Actor::System, "operator"),
        };
        self.users.delete(target).await?;
        self.record(
            actor,
            Action::AccountDeleted,
            target,
            AuditDetails::new().with("by", deleted_by),
            who,
        )
        .await;
        Ok(())
    }

    async fn record(
        &self,
        actor: Actor,
        action: Action,
        target: UserId,
        details: AuditDetails,
        who: Requester,
    ) {
        let record = AuditRecord::new(self.clock.now(), actor, action)
            .target(target.to_string())
            .details(details)
            .origin(who.origin());
        self.audit.record_or_log(record).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::SystemClock;
    use crate::crypto::{MockEmailIndex, MockFieldCipher};
    use crate::repo::{MockAuditLog, MockSessionRepository, MockUserRepository};

    #[tokio::test]
    async fn admins_cannot_demote_or_deactivate_themselves() {
        let me = UserId::from_random([1; 16]);
        let admin = Admin::new(
            Arc::new(MockUserRepository::new()),
            Arc::new(MockSessionRepository::new()),
            Arc::new(MockFieldCipher::new()),
            Arc::new(MockEmailIndex::new()),
            AuditTrail::new(Arc::new(MockAuditLog::new())),
            Arc::new(SystemClock),
        );
        let who = Requester::default();
        assert!(matches!(
            admin
                .set_role(Actor::User(me), me, Role::Visitor, who)
                .await,
            Err(AdminError::SelfChange)
        ));
        assert!(matches!(
            admin.set_active(Actor::User(me), me, false, who).await,
            Err(AdminError::SelfChange)
        ));
        assert!(matches!(
            admin.delete_account(Deleter::Admin(me), me, who).await,
            Err(AdminError::SelfChange)
        ));
    }

    #[tokio::test]
    async fn a_deletion_is_audited_with_who_asked_and_nothing_personal() {
        let (me, admin_id) = (UserId::from_random([1; 16]), UserId::from_random([2; 16]));
        let mut users = MockUserRepository::new();
        users.expect_delete().times(3).returning(|_| Ok(()));
        let kept = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut log = MockAuditLog::new();
        let into = Arc::clone(&kept);
        log.expect_append().returning(move |record| {
            into.lock().unwrap().push(record.clone());
            Ok(wildid_domain::audit::AuditEntry::append_to(None, record))
        });
        let admin = Admin::new(
            Arc::new(users),
            Arc::new(MockSessionRepository::new()),
            Arc::new(MockFieldCipher::new()),
            Arc::new(MockEmailIndex::new()),
            AuditTrail::new(Arc::new(log)),
            Arc::new(SystemClock),
        );
        let who = Requester::default();
        for by in [Deleter::Owner, Deleter::Admin(admin_id), Deleter::Operator] {
            admin.delete_account(by, me, who).await.unwrap();
        }
        let kept = kept.lock().unwrap();
        let summary: Vec<(String, Actor, Option<String>, String)> = kept
            .iter()
            .map(|r| {
                let by = r.details.iter().map(|(k, v)| format!("{k}={v}")).collect();
                (r.action.as_str().to_owned(), r.actor, r.target.clone(), by)
            })
            .collect();
        let target = Some(me.to_string());
        assert_eq!(
            summary,
            [
                (
                    "account.deleted".into(),
                    Actor::User(me),
                    target.clone(),
                    "by=self".into()
                ),
                (
                    "account.deleted".into(),
                    Actor::User(admin_id),
                    target.clone(),
                    "by=admin".into()
                ),
                (
                    "account.deleted".into(),
                    Actor::System,
                    target,
                    "by=operator".into()
                ),
            ]
        );
    }
}
