//! `wildid users set-role EMAIL ROLE`: how an operator appoints the first admin (and any role
//! change from the shell); `wildid users delete EMAIL --yes`: an account deleted with
//! everything in it. Both are audited with the system as actor.

use std::process::ExitCode;

use std::sync::Arc;
use wildid_adapters_db::Database;
use wildid_domain::audit::Actor;
use wildid_domain::email::Email;
use wildid_domain::role::Role;
use wildid_domain::user::User;
use wildid_ports::builtin::{FernetKeyRing, HmacEmailIndex, OsRandom, SystemClock};
use wildid_ports::crypto::EmailIndex;
use wildid_ports::services::accounts::Requester;
use wildid_ports::services::admin::{Admin, Deleter};
use wildid_ports::services::audit::AuditTrail;

use crate::config::Settings;
use crate::secrets;

/// The database, the account registered under `email`, and the cipher of its fields; or the
/// exit code of the problem, already printed.
async fn account(
    settings: &Settings,
    email: &str,
) -> Result<(Arc<Database>, User, FernetKeyRing), ExitCode> {
    let email = match Email::parse(email) {
        Ok(e) => e,
        Err(e) => return Err(super::fail(&format!("the address is not valid: {e}"))),
    };
    let db = super::existing_database(settings)?;
    let (secrets, _) = secrets::resolve(settings, &OsRandom).map_err(|e| super::fail(&e))?;
    let (index, cipher) = match (
        HmacEmailIndex::new(secrets.email_pepper.clone()),
        FernetKeyRing::new(&secrets.fernet_keys),
    ) {
        (Ok(i), Ok(c)) => (i, c),
        _ => return Err(super::fail(&"the secrets are not usable")),
    };
    match db.users().find_by_email(&index.lookup(&email)).await {
        Ok(Some(user)) => Ok((db, user, cipher)),
        Ok(None) => {
            eprintln!("error: no account has that address");
            Err(ExitCode::from(1))
        }
        Err(e) => Err(super::fail(&e)),
    }
}

fn admin(db: &Arc<Database>, cipher: FernetKeyRing) -> Admin {
    Admin::new(
        db.users(),
        db.sessions(),
        Arc::new(cipher),
        AuditTrail::new(db.audit_log()),
        Arc::new(SystemClock),
    )
}

/// Sets the role of the account registered under `email`.
pub async fn set_role(settings: &Settings, email: &str, role: &str) -> ExitCode {
    let Ok(role) = role.parse::<Role>() else {
        return super::fail(&"the role must be visitor, worker or admin");
    };
    let (db, user, cipher) = match account(settings, email).await {
        Ok(found) => found,
        Err(code) => return code,
    };
    match admin(&db, cipher)
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
    let (db, user, cipher) = match account(settings, email).await {
        Ok(found) => found,
        Err(code) => return code,
    };
    match admin(&db, cipher)
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
