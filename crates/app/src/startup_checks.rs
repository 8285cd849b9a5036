//! What `wildid serve` checks before it says it is listening, besides the database (which must
//! answer, or the server does not start): the mail transport (an SMTP session that sends
//! nothing) and each remote identification provider (`GET {base}/models`). Neither stops the
//! start: mail waits in the outbox until the transport answers, and the provider chain falls
//! back or answers 503. So what they find is logged right after the listening line, a warning
//! naming the fix when something does not answer. Each check is bounded by [`PROBE_TIMEOUT`].

use std::sync::Arc;
use std::time::Duration;

use wildid_adapters_ai::{OpenAiCompatible, Probe, ProviderSettings};
use wildid_adapters_mail::SmtpMailer;
use wildid_ports::builtin::OsRandom;

use crate::config::{MailTransport, Provider, Settings};

/// The longest a start waits for one check.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What one check found: the line to log, and whether it is a warning.
pub(crate) struct Finding {
    pub(crate) warning: bool,
    pub(crate) line: String,
}

impl Finding {
    /// Logs the finding (at warn when something did not answer).
    pub(crate) fn log(&self) {
        if self.warning {
            tracing::warn!(check = "start-up", "{}", self.line);
        } else {
            tracing::info!(check = "start-up", "{}", self.line);
        }
    }
}

/// Runs every check at once and returns what each found, mail first.
pub(crate) async fn run(settings: &Settings) -> Vec<Finding> {
    let (mail, providers) = tokio::join!(mail(settings), providers(settings));
    mail.into_iter().chain(providers).collect()
}

async fn mail(settings: &Settings) -> Option<Finding> {
    let MailTransport::Smtp(smtp) = &settings.mail_transport else {
        return None;
    };
    let at = format!("SMTP {}:{}", smtp.host, smtp.port);
    let mailer = match SmtpMailer::new(smtp, settings.mail_from.clone(), Arc::new(OsRandom)) {
        Ok(mailer) => mailer,
        Err(e) => return Some(warning(format!("mail transport {at}: {e}"))),
    };
    Some(
        match tokio::time::timeout(PROBE_TIMEOUT, mailer.probe()).await {
            Ok(Ok(())) => Finding {
                warning: false,
                line: format!("mail transport {at} answered"),
            },
            Ok(Err(e)) => not_answering(&at, &e.to_string()),
            Err(_) => not_answering(&at, "no answer in time"),
        },
    )
}

fn not_answering(at: &str, why: &str) -> Finding {
    warning(format!(
        "mail transport {at} did not answer at start ({why}); mail waits in the outbox and goes \
         out once it answers: check WILDID_SMTP_HOST, WILDID_SMTP_PORT, WILDID_SMTP_SECURITY and \
         the credentials"
    ))
}

/// Each remote provider, all at once, in the order of the chain.
async fn providers(settings: &Settings) -> Vec<Finding> {
    let remotes = settings
        .identification
        .chain
        .iter()
        .filter_map(|provider| match provider {
            Provider::Remote(remote) => Some(provider_check(remote)),
            // The offline model is loaded (or refused, saying how to fix it) as the server
            // is composed, before the first connection is served.
            Provider::LocalModel(_) => None,
        });
    futures_util::future::join_all(remotes).await
}

async fn provider_check(remote: &ProviderSettings) -> Finding {
    let name = &remote.name;
    let client = match OpenAiCompatible::new(remote.clone()) {
        Ok(client) => client,
        Err(e) => return warning(format!("identification provider {name}: {e}")),
    };
    match client.probe(PROBE_TIMEOUT).await {
        Probe::Answered(status @ 200..=299) => Finding {
            warning: false,
            line: format!("identification provider {name} answered (HTTP {status})"),
        },
        Probe::Answered(status) => warning(format!(
            "identification provider {name} answered HTTP {status} to its model listing: \
                 check WILDID_AI_BASE_URL (a server without a listing may still identify)"
        )),
        Probe::KeyRefused(status) => warning(format!(
            "identification provider {name} refused the key (HTTP {status}): check \
                 WILDID_AI_API_KEY"
        )),
        Probe::Unreachable(why) => warning(format!(
            "identification provider {name} did not answer at start ({why}); until it does, \
                 identifications go to the next provider or answer 503: check WILDID_AI_BASE_URL"
        )),
    }
}

fn warning(line: String) -> Finding {
    Finding {
        warning: true,
        line,
    }
}
