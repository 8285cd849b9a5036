//! Periodic maintenance while the server runs: expired sessions, rate-limit counters, spent
//! tokens, delivered mail (after a day), expired CAPTCHA challenges and expired held photos
//! are deleted every few minutes. Jobs stop with the server.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wildid_ports::clock::Clock;
use wildid_ports::repo::{HeldPhotoRepository, LoginTokenRepository, RateLimitStore};
use wildid_ports::services::captcha::Captchas;
use wildid_ports::services::mail::MailQueue;
use wildid_ports::services::sessions::SessionService;

/// How often the jobs run.
pub const INTERVAL: Duration = Duration::from_secs(300);
/// Rate-limit windows are at most a day; counters older than this are dead.
const COUNTER_RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// How often due mail is looked for.
pub const MAIL_INTERVAL: Duration = Duration::from_secs(1);
/// Messages handed to the transport per round.
const MAIL_BATCH: u32 = 20;
/// Delivered messages and spent tokens are kept this long, then deleted.
const SPENT_RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// What the jobs work on.
pub struct Jobs {
    /// Session purge.
    pub sessions: SessionService,
    /// Counter purge.
    pub rate_limits: std::sync::Arc<dyn RateLimitStore>,
    /// Spent token purge.
    pub tokens: std::sync::Arc<dyn LoginTokenRepository>,
    /// Expired held photo purge (a photo expires after
    /// `wildid_ports::services::identify::HELD_PHOTO_MINUTES`; an expired one can no longer be
    /// taken, and this deletes it at the next round).
    pub held_photos: std::sync::Arc<dyn HeldPhotoRepository>,
    /// Expired CAPTCHA purge.
    pub captchas: Captchas,
    /// Mail delivery.
    pub mail: MailQueue,
    /// Time.
    pub clock: std::sync::Arc<dyn Clock>,
}

impl Jobs {
    /// Runs until `stop` is cancelled: mail every [`MAIL_INTERVAL`], maintenance every
    /// [`INTERVAL`].
    pub async fn run(self, stop: CancellationToken) {
        let mut maintenance = tokio::time::interval(INTERVAL);
        maintenance.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut mail = tokio::time::interval(MAIL_INTERVAL);
        mail.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = maintenance.tick() => self.once().await,
                _ = mail.tick() => self.deliver_mail().await,
            }
        }
    }

    /// One round of mail delivery.
    pub async fn deliver_mail(&self) {
        match self.mail.deliver_due(MAIL_BATCH).await {
            Ok(round) if round.sent + round.retried > 0 => {
                tracing::info!(
                    sent = round.sent,
                    retried = round.retried,
                    "mail delivery round"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "mail delivery round failed"),
        }
    }

    /// One round of every job.
    pub async fn once(&self) {
        match self.sessions.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired sessions purged"),
            Err(error) => tracing::warn!(%error, "session purge failed"),
        }
        if let Err(error) = self
            .rate_limits
            .purge_before(self.clock.now() - COUNTER_RETENTION)
            .await
        {
            tracing::warn!(%error, "rate-limit purge failed");
        }
        if let Err(error) = self
            .tokens
            .purge_spent(self.clock.now() - SPENT_RETENTION)
            .await
        {
            tracing::warn!(%error, "token purge failed");
        }
        match self.held_photos.purge_expired(self.clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired held photos purged"),
            Err(error) => tracing::warn!(%error, "held photo purge failed"),
        }
        match self.mail.purge_delivered(SPENT_RETENTION).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "delivered mail purged"),
            Err(error) => tracing::warn!(%error, "mail purge failed"),
        }
        match self.captchas.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired captchas purged"),
            Err(error) => tracing::warn!(%error, "captcha purge failed"),
        }
    }
}
