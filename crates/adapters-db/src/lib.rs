//! WildID's storage adapter: diesel over SQLite (the embedded default) and Postgres.
//!
//! [`Database::open`] picks the backend from a [`DatabaseUrl`]; [`run_migrations`] applies the
//! embedded migrations of that backend; the `Database` then hands out implementations of the
//! repository ports of `wildid-ports`. Queries are written once (`schema.rs` is shared) and
//! compiled for both backends by the `with_conn!` macro.
//!
//! Lookups by a primary or unique key use `get_result`, not `first`: `first` appends a bound
//! `LIMIT ?`, and SQLite (3.4x and later) lets a bound limit shape the query plan, so a cached
//! statement expires whenever the value is bound again and is parsed and planned anew on every
//! execution (measured: re-preparing was 28 % of the server's CPU on the session-resume
//! benchmark). The workspace also builds SQLite with `SQLITE_ENABLE_QPSG` (the query planner
//! stability guarantee, `.cargo/config.toml`), which keeps plans independent of bound values for
//! the queries that do need a bound `LIMIT`.

mod account_removal;
mod address_index;
mod audit;
mod captchas;
mod codec;
mod error;
mod exposures;
mod health;
mod held_photos;
mod identifications;
mod leases;
mod mail_outbox;
mod migrate;
mod pool;
mod rate_limits;
mod recovery_codes;
mod schema;
mod sealed;
mod sessions;
mod sqlite_file;
mod tokens;
mod url;
mod users;
mod visits;

use std::sync::Arc;

use wildid_ports::health::HealthCheck;
use wildid_ports::repo::{
    AuditLog, BookingRepository, CaptchaRepository, ExposureReportRepository, HeldPhotoRepository,
    IdentificationRepository, JobLeases, LoginTokenRepository, MailOutbox, NotificationRepository,
    RateLimitStore, RecoveryCodeRepository, SealedValues, ServiceTypeRepository, SessionRepository,
    SiteRepository, UserRepository, VisitMappingRepository,
};

pub use migrate::run_migrations;
pub use pool::PoolOptions;
pub use url::{Backend, DatabaseUrl, DatabaseUrlError};

/// The database could not be opened or migrated. Messages are for operators (start-up errors,
/// CLI output), never for HTTP clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbError {
    /// The location is unusable.
    #[error(transparent)]
    Url(#[from] DatabaseUrlError),
    /// The database cannot be reached or opened.
    #[error("cannot open the database: {0}")]
    Connect(String),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(String),
}

/// How busy the connection pools are (for the metrics): every pool of the backend together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections open.
    pub open: usize,
    /// Connections lent out to a query now.
    pub in_use: usize,
    /// The most connections the pools may open.
    pub max: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

/// An open database: a connection pool of one backend.
pub struct Database {
    pool: pool::Pool,
    backend: Backend,
}

impl Database {
    /// Opens a pool on `url`. Does not migrate (see [`run_migrations`]) and does not connect
    /// yet: connections are made on first use, and [`HealthCheck::ping`] tells whether the
    /// database answers.
    ///
    /// # Errors
    /// [`DbError::Connect`] when the pool cannot be built (for SQLite: the file is missing and
    /// may not be created, or its directory does not exist).
    pub fn open(url: &DatabaseUrl, options: PoolOptions) -> Result<Arc<Self>, DbError> {
        let pool = match url {
            DatabaseUrl::Sqlite { path, create } => {
                sqlite_file::prepare(path, *create)?;
                pool::Pool::sqlite(path, options)?
            }
            DatabaseUrl::Postgres(url) => pool::Pool::postgres(url.expose(), options)?,
        };
        Ok(Arc::new(Self {
            pool,
            backend: url.backend(),
        }))
    }

    /// Which backend is open.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How busy the connection pools are now.
    pub fn pool_usage(&self) -> PoolUsage {
        self.pool.usage()
    }

    /// Closes the pool: connections are dropped as they are returned.
    pub fn close(&self) {
        self.pool.close();
    }

    /// The user repository.
    pub fn users(self: &Arc<Self>) -> Arc<dyn UserRepository> {
        Arc::new(users::SqlUsers {
            db: Arc::clone(self),
        })
    }

    /// The audit log.
    pub fn audit_log(self: &Arc<Self>) -> Arc<dyn AuditLog> {
        Arc::new(audit::SqlAuditLog {
            db: Arc::clone(self),
        })
    }

    /// The session repository.
    pub fn sessions(self: &Arc<Self>) -> Arc<dyn SessionRepository> {
        Arc::new(sessions::SqlSessions {
            db: Arc::clone(self),
        })
    }

    /// The rate-limit counters.
    pub fn rate_limits(self: &Arc<Self>) -> Arc<dyn RateLimitStore> {
        Arc::new(rate_limits::SqlRateLimits {
            db: Arc::clone(self),
        })
    }

    /// The CAPTCHA challenges.
    pub fn captchas(self: &Arc<Self>) -> Arc<dyn CaptchaRepository> {
        Arc::new(captchas::SqlCaptchas {
            db: Arc::clone(self),
        })
    }

    /// The photos kept while their session passes the human check.
    pub fn held_photos(self: &Arc<Self>) -> Arc<dyn HeldPhotoRepository> {
        Arc::new(held_photos::SqlHeldPhotos {
            db: Arc::clone(self),
        })
    }

    /// The field journals.
    pub fn identifications(self: &Arc<Self>) -> Arc<dyn IdentificationRepository> {
        Arc::new(identifications::SqlIdentifications {
            db: Arc::clone(self),
        })
    }

    /// The wildlife sites.
    pub fn sites(self: &Arc<Self>) -> Arc<dyn SiteRepository> {
        Arc::new(visits::SqlVisits {
            db: Arc::clone(self),
        })
    }

    /// The kinds of visit offered.
    pub fn service_types(self: &Arc<Self>) -> Arc<dyn ServiceTypeRepository> {
        Arc::new(visits::SqlVisits {
            db: Arc::clone(self),
        })
    }

    /// The visit bookings and their slots' places.
    pub fn bookings(self: &Arc<Self>) -> Arc<dyn BookingRepository> {
        Arc::new(visits::SqlVisits {
            db: Arc::clone(self),
        })
    }

    /// The encrypted visit mappings (who was at a site when).
    pub fn visit_mappings(self: &Arc<Self>) -> Arc<dyn VisitMappingRepository> {
        Arc::new(visits::SqlVisits {
            db: Arc::clone(self),
        })
    }

    /// The exposure reports.
    pub fn exposure_reports(self: &Arc<Self>) -> Arc<dyn ExposureReportRepository> {
        Arc::new(exposures::SqlExposures {
            db: Arc::clone(self),
        })
    }

    /// The in-app notifications.
    pub fn notifications(self: &Arc<Self>) -> Arc<dyn NotificationRepository> {
        Arc::new(exposures::SqlExposures {
            db: Arc::clone(self),
        })
    }

    /// The leases on background jobs that server processes share.
    pub fn job_leases(self: &Arc<Self>) -> Arc<dyn JobLeases> {
        Arc::new(leases::SqlLeases {
            db: Arc::clone(self),
        })
    }

    /// Every value encrypted under the key ring, for re-encryption under a new key.
    pub fn sealed_values(self: &Arc<Self>) -> Arc<dyn SealedValues> {
        Arc::new(sealed::SqlSealed {
            db: Arc::clone(self),
        })
    }

    /// The sign-in token repository.
    pub fn login_tokens(self: &Arc<Self>) -> Arc<dyn LoginTokenRepository> {
        Arc::new(tokens::SqlTokens {
            db: Arc::clone(self),
        })
    }

    /// The durable mail outbox.
    pub fn mail_outbox(self: &Arc<Self>) -> Arc<dyn MailOutbox> {
        Arc::new(mail_outbox::SqlMailOutbox {
            db: Arc::clone(self),
        })
    }

    /// The second-factor recovery codes.
    pub fn recovery_codes(self: &Arc<Self>) -> Arc<dyn RecoveryCodeRepository> {
        Arc::new(recovery_codes::SqlRecoveryCodes {
            db: Arc::clone(self),
        })
    }

    /// The readiness probe.
    pub fn health(self: &Arc<Self>) -> Arc<dyn HealthCheck> {
        Arc::new(health::SqlHealth {
            db: Arc::clone(self),
        })
    }
}
