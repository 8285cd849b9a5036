//! `wildid keys generate`.

use std::process::ExitCode;

use wildid_ports::builtin::OsRandom;

use super::output;
use crate::secrets;

/// Prints fresh secrets in environment-file form.
pub fn generate() -> ExitCode {
    match secrets::generate_env(&OsRandom) {
        Ok(env) => {
            say!("# WildID secrets. Keep them secret and back them up: losing WILDID_FERNET_KEYS");
            say!("# makes every encrypted address unreadable. To rotate the Fernet key, put a new");
            say!("# key first in WILDID_FERNET_KEYS and keep the old ones after it.");
            output::write(format_args!("{env}"));
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(&e),
    }
}
