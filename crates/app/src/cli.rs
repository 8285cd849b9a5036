//! The `wildid` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wildid_domain::role::Role;

use crate::commands;
use crate::config::{self, Overrides};

/// For operators: what to run first, where settings come from, and what exit statuses mean.
const OPERATORS: &str = "\
Getting started:
  wildid serve                        run on the embedded defaults (SQLite in ./data)
  wildid config check                 every setting, grouped, secrets masked
  wildid admin create --email EMAIL   the first admin: prints a one-time sign-in link
  wildid users set-role EMAIL ROLE    change a role (visitor, worker, admin); sessions end
  wildid keys generate                fresh secrets for WILDID_ENV=production
  wildid audit head | audit verify    anchor and check the tamper-evident audit log
  wildid completions bash             shell completions (bash, zsh, fish, elvish, powershell)

Settings come from WILDID_* variables, a TOML file (--config) and flags: docs/configuration.md.
Running a real site (TLS proxy, systemd, Postgres, backups): docs/deployment.md.

Exit status: 0 done; 1 a check failed or no account has that address; 2 the command could not
run (a bad setting, an unreachable database); 3 another server is doing that work right now.";

/// WildID: identify wildlife from photos and run field visits safely.
#[derive(Debug, Parser)]
#[command(
    name = "wildid",
    version,
    about = "WildID: identify wildlife from photos and run field visits safely.",
    after_help = OPERATORS
)]
pub struct Cli {
    /// Configuration file (TOML); also WILDID_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the server keeps its files; also WILDID_DATA_DIR [default: ./data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on; port 0 picks a free port. Also WILDID_BIND [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage secrets.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigCommand,
    },
    /// Work with the tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
    /// Appoint admins from the server's shell.
    Admin {
        #[command(subcommand)]
        action: AdminCommand,
    },
    /// Manage accounts.
    Users {
        #[command(subcommand)]
        action: UsersCommand,
    },
    /// Print a completion script for SHELL on standard output, e.g.
    /// `wildid completions bash > /etc/bash_completion.d/wildid`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Delete visit data past its retention period now (visit mappings and bookings older
    /// than WILDID_RETENTION_VISIT_DAYS, notifications read more than
    /// WILDID_RETENTION_READ_NOTIFICATION_DAYS ago), as the running servers do daily; audited.
    /// Exit status 1 when a store failed, 3 when a server is purging at that moment.
    Purge,
}

/// The roles an account can have, as the command line names them.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    /// Identifies photos, keeps a journal, books visits.
    Visitor,
    /// Runs field visits (second factor required).
    Worker,
    /// Manages accounts, sites and data (second factor required).
    Admin,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Visitor => Role::Visitor,
            RoleArg::Worker => Role::Worker,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an admin account for EMAIL and print a one-time sign-in link for it (not mailed:
    /// hand it over yourself). The link works once and expires like a mailed one; opening it
    /// proves the address, then the admin pages ask for a second factor. For an admin account
    /// that exists (a link that expired unused), prints a new link. Audited. Exit status 1
    /// when the address has an account of another role (use `users set-role`) or a
    /// deactivated one.
    Create {
        /// The new admin's email address.
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// List accounts, oldest first, one line each (tab-separated: id, role, state, address
    /// confirmed, second factor, last sign-in, address), a page at a time.
    List {
        /// Accounts to skip.
        #[arg(long, default_value_t = 0)]
        offset: u64,
        /// Accounts to show (1 to 500).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: u32,
    },
    /// Show the account registered under EMAIL (found by its keyed digest, as at sign-in).
    /// Exit status 1 when there is none.
    Find {
        /// The account's email address.
        email: String,
    },
    /// Give the account registered under EMAIL a role. Appoints the first admin; the change is
    /// audited and the user's sessions end.
    SetRole {
        /// The account's email address.
        email: String,
        /// The new role.
        #[arg(value_enum)]
        role: RoleArg,
    },
    /// Deactivate the account registered under EMAIL: it cannot sign in, and its sessions end
    /// at once. Audited.
    Deactivate {
        /// The account's email address.
        email: String,
    },
    /// Let a deactivated account sign in again. Audited.
    Reactivate {
        /// The account's email address.
        email: String,
    },
    /// Lift the password lockout of the account registered under EMAIL. Audited.
    Unlock {
        /// The account's email address.
        email: String,
    },
    /// End every session of the account registered under EMAIL (signed out everywhere).
    /// Audited.
    EndSessions {
        /// The account's email address.
        email: String,
    },
    /// Delete the account registered under EMAIL with everything in it (identifications,
    /// photos, feedback, sessions, sign-in links, recovery codes), in one transaction; the
    /// audit log keeps that it happened. Asks for --yes, as it cannot be undone.
    Delete {
        /// The account's email address.
        email: String,
        /// Confirms the deletion.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Print fresh secrets as environment variables (WILDID_SESSION_KEY, WILDID_FERNET_KEYS,
    /// WILDID_EMAIL_PEPPER).
    Generate,
    /// Put a fresh Fernet key first in the ring, keeping the older ones: prints the new
    /// WILDID_FERNET_KEYS, or rewrites the development secrets file when the ring comes from
    /// it. Then restart the servers and run `wildid keys reencrypt`.
    Rotate,
    /// Rewrite every encrypted value under the newest key, in batches, with a progress bar;
    /// resumes where an interrupted run stopped. Exit status 0 when every value is under the
    /// newest key, 1 when some value no key decrypts was found (each is named, none changed)
    /// or the run stopped, 3 when a server is re-encrypting now.
    Reencrypt,
    /// Show each encrypted column's state under the newest key, and whether the older keys
    /// can be removed.
    Status,
    /// After an email pepper rotation (new WILDID_EMAIL_PEPPER, the old one in
    /// WILDID_EMAIL_PEPPER_PREVIOUS, on every server): move every account's address digest,
    /// and the unused links', to the current pepper. Safe to run beside the servers and to run
    /// again. Exit status 0 when nothing is left under an older pepper (the previous one can
    /// then be removed), 1 when an account or link was left behind (each named, none changed)
    /// or the run stopped.
    RekeyEmails,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and secrets, check the database, print a summary (secrets
    /// masked). Exit status 0 when everything is usable.
    Check,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the whole chain and report the first altered, unlinked or deleted entry. Exit
    /// status 0 when intact, 1 when broken.
    Verify {
        /// A head recorded earlier (`SEQ:HASH`, as printed by `wildid audit head`): also checks
        /// that this entry still exists unchanged, which detects deletion of the newest entries.
        #[arg(long, value_name = "SEQ:HASH")]
        anchor: Option<String>,
    },
    /// Print the current head (`SEQ:HASH`), to record elsewhere as an anchor.
    Head,
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let bind = match &cli.command {
        Command::Serve { bind } => bind.clone(),
        _ => None,
    };
    let overrides = Overrides {
        config_file: cli.config,
        bind,
        data_dir: cli.data_dir,
    };
    if let Command::Keys {
        action: KeysCommand::Generate,
    } = cli.command
    {
        return commands::keys::generate();
    }
    if let Command::Completions { shell } = cli.command {
        return completions(shell);
    }
    let settings = match config::load(&overrides) {
        Ok(settings) => settings,
        Err(e) => {
            return match cli.command {
                Command::Config {
                    action: ConfigCommand::Check,
                } => commands::config_unreadable(&e),
                _ => commands::fail(&e),
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return commands::fail(&e),
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Serve { .. } => commands::serve(settings).await,
            Command::Migrate => commands::migrate(&settings).await,
            Command::Config {
                action: ConfigCommand::Check,
            } => commands::config_check(&settings).await,
            Command::Audit {
                action: AuditCommand::Verify { anchor },
            } => commands::audit::verify(&settings, anchor.as_deref()).await,
            Command::Audit {
                action: AuditCommand::Head,
            } => commands::audit::head(&settings).await,
            Command::Admin {
                action: AdminCommand::Create { email },
            } => commands::admin::create(&settings, &email).await,
            Command::Users { action } => users(&settings, action).await,
            Command::Purge => commands::purge::run(&settings).await,
            // Answered above, before the configuration is read.
            Command::Completions { shell } => completions(shell),
            Command::Keys {
                action: KeysCommand::Rotate,
            } => commands::keys::rotate(&settings),
            Command::Keys {
                action: KeysCommand::Reencrypt,
            } => commands::keys::reencrypt(&settings).await,
            Command::Keys {
                action: KeysCommand::Status,
            } => commands::keys::status(&settings).await,
            Command::Keys {
                action: KeysCommand::RekeyEmails,
            } => commands::rekey_emails::run(&settings).await,
            Command::Keys {
                action: KeysCommand::Generate,
            } => commands::keys::generate(),
        }
    })
}

async fn users(settings: &crate::config::Settings, action: UsersCommand) -> ExitCode {
    use commands::users::{self, Change};
    match action {
        UsersCommand::List { offset, limit } => users::list(settings, offset, limit).await,
        UsersCommand::Find { email } => users::find(settings, &email).await,
        UsersCommand::SetRole { email, role } => {
            users::set_role(settings, &email, role.into()).await
        }
        UsersCommand::Deactivate { email } => {
            users::change(settings, &email, Change::Deactivate).await
        }
        UsersCommand::Reactivate { email } => {
            users::change(settings, &email, Change::Reactivate).await
        }
        UsersCommand::Unlock { email } => users::change(settings, &email, Change::Unlock).await,
        UsersCommand::EndSessions { email } => {
            users::change(settings, &email, Change::EndSessions).await
        }
        UsersCommand::Delete { email, yes } => users::delete(settings, &email, yes).await,
    }
}

/// Writes the completion script of `shell` (through the command output, so a closed pipe ends
/// quietly).
fn completions(shell: clap_complete::Shell) -> ExitCode {
    use clap::CommandFactory as _;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "wildid", &mut script);
    commands::output::write(format_args!("{}", String::from_utf8_lossy(&script)));
    ExitCode::SUCCESS
}
