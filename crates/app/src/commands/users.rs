//! `wildid users ...`: the accounts from the shell. `list` and `find` show them; `set-role`
//! appoints the first admin (and any role change), `deactivate` / `reactivate`, `unlock` and
//! `end-sessions` do what the admin console does; `delete EMAIL --yes` deletes an account with
//! everything in it. Every change is audited with the system as actor. Exit status 0 when done,
//! 1 when no account has the address, 2 when the command cannot run.

use std::process::ExitCode;

use std::sync::Arc;
use wildid_adapters_db::Database;
use wildid_domain::audit::Actor;
use wildid_domain::email::Email;
use wildid_domain::role::Role;
use wildid_domain::user::User;
use wildid_ports::builtin::{FernetKeyRing, HmacEmailIndex, OsRandom, SystemClock};
use wildid_ports::repo::Page;
use wildid_ports::services::accounts::Requester;
use wildid_ports::services::admin::{Admin, Deleter, UserSummary};
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::email_rekey::locate;

use crate::config::Settings;
use crate::secrets;

/// The database and the keys of its fields; or the exit code of the problem, already printed.
fn open(settings: &Settings) -> Result<(Arc<Database>, HmacEmailIndex, FernetKeyRing), ExitCode> {
    let db = super::existing_database(settings)?;
    let (secrets, _) = secrets::resolve(settings, &OsRandom).map_err(|e| super::fail(&e))?;
    match (
        secrets.email_index(),
        FernetKeyRing::new(&secrets.fernet_keys),
    ) {
        (Ok(index), Ok(cipher)) => Ok((db, index, cipher)),
        _ => Err(super::fail(&"the secrets are not usable")),
    }
}

/// The account registered under `email` and the admin use cases over its database; or the
/// exit code of the problem, already printed.
async fn account(settings: &Settings, email: &str) -> Result<(User, Admin), ExitCode> {
    let email = match Email::parse(email) {
        Ok(e) => e,
        Err(e) => return Err(super::fail(&format!("the address is not valid: {e}"))),
    };
    let (db, index, cipher) = open(settings)?;
    match locate(db.users().as_ref(), &index, &email)
        .await
        .map(|l| l.user)
    {
        Ok(Some(user)) => Ok((user, admin(&db, cipher, index))),
        Ok(None) => {
            eprintln!("error: no account has that address");
            Err(ExitCode::from(1))
        }
        Err(e) => Err(super::fail(&e)),
    }
}

fn admin(db: &Arc<Database>, cipher: FernetKeyRing, index: HmacEmailIndex) -> Admin {
    Admin::new(
        db.users(),
        db.sessions(),
        Arc::new(cipher),
        Arc::new(index),
        AuditTrail::new(db.audit_log()),
        Arc::new(SystemClock),
    )
}

/// One account as a line of `list`: id, role, state, confirmed address, second factor, last
/// sign-in and address, separated by tabs.
fn line(u: &UserSummary) -> String {
    let state = match (u.active, u.locked_until) {
        (false, _) => "deactivated".to_owned(),
        (true, Some(until)) => format!("locked-until-{}", until.format("%Y-%m-%dT%H:%M:%SZ")),
        (true, None) => "active".to_owned(),
    };
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let last = u.last_login_at.map_or_else(
        || "never".to_owned(),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    );
    format!(
        "{}\t{}\t{state}\t{}\t{}\t{last}\t{}",
        u.id,
        u.role,
        yes_no(u.email_verified),
        yes_no(u.totp_enabled),
        u.email
    )
}

const HEADER: &str = "ID\tROLE\tSTATE\tCONFIRMED\t2FA\tLAST_SIGN_IN\tEMAIL";

/// Lists `limit` accounts after the first `offset`, oldest first, one line each.
pub async fn list(settings: &Settings, offset: u64, limit: u32) -> ExitCode {
    let (db, index, cipher) = match open(settings) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    match admin(&db, cipher, index).list(Page { offset, limit }).await {
        Ok(users) => {
            say!("{HEADER}");
            for user in &users {
                say!("{}", line(user));
            }
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(&e),
    }
}

/// Shows the account registered under `email`, as a line of `list`.
pub async fn find(settings: &Settings, email: &str) -> ExitCode {
    let (user, admin) = match account(settings, email).await {
        Ok(found) => found,
        Err(code) => return code,
    };
    match admin.find(user.id()).await {
        Ok(summary) => {
            say!("{HEADER}");
            say!("{}", line(&summary));
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(&e),
    }
}

/// What `wildid users` can change of one account.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// Deactivate (their sessions end at once).
    Deactivate,
    /// Reactivate.
    Reactivate,
    /// Lift a password lockout.
    Unlock,
    /// End every session.
    EndSessions,
}

/// Makes `change` to the account registered under `email`.
pub async fn change(settings: &Settings, email: &str, change: Change) -> ExitCode {
    let (user, admin) = match account(settings, email).await {
        Ok(found) => found,
        Err(code) => return code,
    };
    let (id, who, email) = (user.id(), Requester::default(), email.trim());
    let done = match change {
        Change::Deactivate => admin
            .set_active(Actor::System, id, false, who)
            .await
            .map(|()| format!("{email} is deactivated; their sessions ended")),
        Change::Reactivate => admin
            .set_active(Actor::System, id, true, who)
            .await
            .map(|()| format!("{email} is active again")),
        Change::Unlock => admin
            .unlock(Actor::System, id, who)
            .await
            .map(|()| format!("{email} may sign in with a password again")),
        Change::EndSessions => admin
            .end_sessions(Actor::System, id, who)
            .await
            .map(|n| format!("{n} session(s) of {email} ended")),
    };
    match done {
        Ok(message) => {
            say!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(&e),
    }
}

/// Sets the role of the account registered under `email`.
pub async fn set_role(settings: &Settings, email: &str, role: Role) -> ExitCode {
    let (user, admin) = match account(settings, email).await {
        Ok(found) => found,
        Err(code) => return code,
    };
    match admin
        .set_role(Actor::System, user.id(), role, Requester::default())
        .await
    {
        Ok(()) => {
            say!("{} is now {role}; their sessions ended", email.trim());
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(&e),
    }
}

/// Deletes the account registered under `email` with everything in it (`--yes` required).
pub async fn delete(settings: &Settings, email: &str, yes: bool) -> ExitCode {
    if !yes {
        eprintln!(
            "error: deleting an account cannot be undone; run again with --yes to delete it \
             and everything in it"
        );
        return ExitCode::from(2);
    }
    let (user, admin) = match account(settings, email).await {
        Ok(found) => found,
        Err(code) => return code,
    };
    match admin
        .delete_account(Deleter::Operator, user.id(), Requester::default())
        .await
    {
        Ok(()) => {
            say!(
                "the account of {} is deleted with everything in it",
                email.trim()
            );
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(&e),
    }
}
