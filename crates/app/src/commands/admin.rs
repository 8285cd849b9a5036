//! `wildid admin create --email EMAIL`: the first admin of a fresh install (or any later one)
//! from the server's shell. Creates the admin account and prints a one-time sign-in link for
//! its owner, at the public URL (`WILDID_PUBLIC_URL`, else the bind address). Exit status 0
//! when the link is printed, 1 when the address has an account of another role or a
//! deactivated one, 2 when the command cannot run.

use std::process::ExitCode;

use wildid_ports::builtin::OsRandom;
use wildid_ports::services::accounts::{AdminLinkError, Requester};

use crate::compose;
use crate::config::Settings;
use crate::secrets;

/// Creates the admin account of `email` (or finds it) and prints its sign-in link.
pub async fn create(settings: &Settings, email: &str) -> ExitCode {
    let db = match super::existing_database(settings) {
        Ok(db) => db,
        Err(code) => return code,
    };
    let secrets = match secrets::resolve(settings, &OsRandom) {
        Ok((secrets, _)) => secrets,
        Err(e) => return super::fail(&e),
    };
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.bind));
    let accounts = match compose::accounts(settings, &secrets, &db, &public_url) {
        Ok((accounts, _)) => accounts,
        Err(e) => return super::fail(&e),
    };
    match accounts
        .admin_sign_in_link(email, Requester::default())
        .await
    {
        Ok(link) => {
            let what = if link.created {
                "Created an admin account"
            } else {
                "The admin account exists"
            };
            say!(
                "{what} for {}. Give its owner this sign-in link; it works once, until {} UTC, \
                 and the admin pages then ask them to set up a second factor:\n\n{}",
                email.trim(),
                link.expires_at.format("%Y-%m-%d %H:%M"),
                link.url
            );
            ExitCode::SUCCESS
        }
        Err(e @ (AdminLinkError::NotAnAdmin(_) | AdminLinkError::Deactivated)) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
        Err(e) => super::fail(&e),
    }
}
