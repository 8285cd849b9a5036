//! `wildid serve`: bind, migrate, check the database, the mail transport and the remote
//! providers, announce the address (first log line), compose, serve until
//! SIGTERM or Ctrl-C, let in-flight requests finish, exit 0.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use wildid_adapters_db::{Database, DbError, PoolOptions, run_migrations};
use wildid_domain::audit::{Action, Actor, AuditDetails, AuditRecord};
use wildid_ports::builtin::OsRandom;
use wildid_ports::services::audit::AuditTrail;

use crate::compose::{compose, secure_cookies};
use crate::config::{ConfigError, MailTransport, Settings};
use crate::secrets::{self, Origin};
use crate::{data_dir, logging, metrics, startup_checks};

/// Why the server stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The database cannot be opened or migrated.
    #[error(transparent)]
    Database(#[from] DbError),
    /// Serving failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the server until a shutdown signal.
///
/// # Errors
/// [`ServeError`] when start-up fails.
pub async fn run(settings: Settings) -> Result<(), ServeError> {
    let (secrets, origin) = secrets::resolve(&settings, &OsRandom)?;
    data_dir::ensure(&settings.data_dir).map_err(ConfigError::Io)?;
    logging::init(settings.log_format, &settings.log_filter);
    let mut shutdown = ShutdownSignal::install()?;

    let listener = TcpListener::bind(settings.bind)
        .await
        .map_err(|source| ServeError::Bind {
            addr: settings.bind,
            source,
        })?;
    let address = listener.local_addr()?;
    let metrics = match settings.metrics_bind {
        Some(at) => {
            let handle = metrics::install().map_err(ConfigError::Io)?;
            let listener = metrics::bind(at)
                .await
                .map_err(|source| ServeError::Bind { addr: at, source })?;
            Some((handle, listener))
        }
        None => None,
    };

    // The database answers (migrated, pool open) before the address is announced: "listening
    // on" is never logged by a server that cannot reach its database. Connections arriving
    // meanwhile wait in the listen queue until the router is composed and serving.
    let applied = run_migrations(&settings.database).await?;
    let db = Database::open(
        &settings.database,
        PoolOptions {
            max_connections: settings.db_max_connections,
            ..PoolOptions::default()
        },
    )?;
    // The mail transport and remote providers are checked before the announcement too; they
    // do not stop the start (mail waits, providers fall back), so what they found is logged
    // after the address, which stays the first line.
    let checks = startup_checks::run(&settings).await;
    tracing::info!(target: logging::LIFECYCLE, %address, "listening on http://{address}");
    tracing::info!(database = %settings.database.redacted(), applied = applied.len(), "database ready");
    let mail = match &settings.mail_transport {
        MailTransport::Outbox => format!("files in {}", settings.data_dir.join("outbox").display()),
        MailTransport::Smtp(smtp) => format!("SMTP {}:{}", smtp.host, smtp.port),
    };
    tracing::info!(
        data_dir = %settings.data_dir.display(),
        mail = %mail,
        "files in {}; mail goes to {mail}",
        settings.data_dir.display()
    );
    for finding in &checks {
        finding.log();
    }
    match &origin {
        Origin::DevFile {
            path,
            generated: true,
        } => tracing::warn!(
            path = %path.display(),
            "generated development secrets; they are reused on later starts. For a deployment set WILDID_ENV=production and provide secrets (wildid keys generate)"
        ),
        Origin::DevFile {
            path,
            generated: false,
        } => tracing::info!(path = %path.display(), "using development secrets"),
        Origin::Given => {}
    }
    if !secure_cookies(&settings) {
        tracing::warn!(
            "development on a non-loopback address over plain http: cookies are sent without Secure"
        );
    }
    let app = compose(&settings, &secrets, &db, address).map_err(ConfigError::Io)?;
    record(&app.audit, Action::ServerStarted, &address).await;

    let stop = CancellationToken::new();
    let jobs = tokio::spawn(app.jobs.run(stop.child_token()));
    if let Some((handle, listener)) = metrics {
        let at = listener.local_addr()?;
        tracing::info!(target: logging::LIFECYCLE, address = %at, "metrics on http://{at}/metrics");
        let served = metrics::serve(
            listener,
            handle,
            Arc::clone(&db),
            db.mail_outbox(),
            stop.child_token(),
        );
        tokio::spawn(async move {
            if let Err(error) = served.await {
                tracing::warn!(%error, "the metrics listener stopped");
            }
        });
    }
    let server = axum::serve(
        listener,
        app.router
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop.clone().cancelled_owned());
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        result = &mut server => result?,
        () = shutdown.recv() => {
            tracing::info!(target: logging::LIFECYCLE, grace_seconds = settings.shutdown_grace.as_secs(), "shutdown requested: finishing in-flight requests");
            stop.cancel();
            match tokio::time::timeout(settings.shutdown_grace, server).await {
                Ok(result) => result?,
                Err(_) => tracing::warn!("grace period over: closing the remaining connections"),
            }
        }
    }
    stop.cancel();
    if let Err(error) = jobs.await {
        tracing::warn!(%error, "maintenance jobs ended abnormally");
    }
    record(&app.audit, Action::ServerStopped, &address).await;
    db.close();
    tracing::info!(target: logging::LIFECYCLE, "stopped");
    Ok(())
}

async fn record(audit: &AuditTrail, action: Action, address: &SocketAddr) {
    let record = AuditRecord::new(chrono::Utc::now(), Actor::System, action).details(
        AuditDetails::new()
            .with("version", env!("CARGO_PKG_VERSION"))
            .with("address", address.to_string()),
    );
    if let Err(error) = audit.record(record).await {
        tracing::error!(%error, cause = %error.0, "could not write the audit log");
    }
}

/// SIGTERM and SIGINT, registered at start so that a signal arriving while the server is still
/// starting is queued (and honoured as soon as it serves) instead of killing the process.
struct ShutdownSignal {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.terminate.recv() => {},
            _ = self.interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// How long the start-up may wait for the database in `config check`.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
