//! `wildid users set-role EMAIL ROLE`: how an operator appoints the first admin (and any role
//! change from the shell). The change is audited with the system as actor, and the user's
//! sessions end.

use std::process::ExitCode;

use std::sync::Arc;
use wildid_adapters_db::{Database, DatabaseUrl, PoolOptions};
use wildid_domain::audit::Actor;
use wildid_domain::email::Email;
use wildid_domain::role::Role;
use wildid_ports::builtin::{FernetKeyRing, HmacEmailIndex, OsRandom, SystemClock};
use wildid_ports::crypto::EmailIndex;
use wildid_ports::services::accounts::Requester;
use wildid_ports::services::admin::Admin;
use wildid_ports::services::audit::AuditTrail;

use crate::config::Settings;
use crate::secrets;

/// Sets the role of the account registered under `email`.
pub async fn set_role(settings: &Settings, email: &str, role: &str) -> ExitCode {
    let Ok(role) = role.parse::<Role>() else {
        return super::fail(&"the role must be visitor, worker or admin");
    };
    let email = match Email::parse(email) {
        Ok(e) => e,
        Err(e) => return super::fail(&format!("the address is not valid: {e}")),
    };
    if let DatabaseUrl::Sqlite { path, .. } = &settings.database
        && !path.exists()
    {
        return super::fail(&format!(
            "no database at {}: start the server or run `wildid migrate` first",
            path.display()
        ));
    }
    let (secrets, _) = match secrets::resolve(settings, &OsRandom) {
        Ok(s) => s,
        Err(e) => return super::fail(&e),
    };
    let (index, cipher) = match (
        HmacEmailIndex::new(secrets.email_pepper.clone()),
        FernetKeyRing::new(&secrets.fernet_keys),
    ) {
        (Ok(i), Ok(c)) => (i, c),
        _ => return super::fail(&"the secrets are not usable"),
    };
    let db = match Database::open(
        &settings.database,
        PoolOptions {
            max_connections: 2,
            ..PoolOptions::default()
        },
    ) {
        Ok(db) => db,
        Err(e) => return super::fail(&e),
    };
    let user = match db.users().find_by_email(&index.lookup(&email)).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            eprintln!("error: no account has that address (it must sign up first)");
            return ExitCode::from(1);
        }
        Err(e) => return super::fail(&e),
    };
    let admin = Admin::new(
        db.users(),
        db.sessions(),
        Arc::new(cipher),
        AuditTrail::new(db.audit_log()),
        Arc::new(SystemClock),
    );
    match admin
        .set_role(Actor::System, user.id, role, Requester::default())
        .await
    {
        Ok(()) => {
            say!("{} is now {role}; their sessions ended", email.as_str());
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(&e),
    }
}
