//! The mail queue: messages are encrypted and written to the durable outbox (in the same
//! transaction as what they announce), then delivered by a worker with retries and backoff.
//! A transport outage delays mail; it never loses it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use wildid_domain::Duration;
use wildid_domain::email::Email;
use wildid_domain::ids::MailId;
use wildid_domain::mail::{MailSubject, OutgoingMail};

use crate::RepoError;
use crate::clock::Clock;
use crate::crypto::FieldCipher;
use crate::mail::Mailer;
use crate::random::{SecureRandom, random_array};
use crate::repo::{MailOutbox, QueuedMail};

/// How long a claimed message is reserved for the worker that claimed it.
pub const LEASE_SECONDS: i64 = 300;
/// Longest wait between two attempts.
pub const MAX_BACKOFF_SECONDS: i64 = 3600;

/// The encrypted form of a message.
#[derive(Serialize, Deserialize)]
struct Payload {
    to: String,
    subject: String,
    text: String,
    html: Option<String>,
}

/// Queuing or delivering failed.
#[derive(Debug, thiserror::Error)]
pub enum MailQueueError {
    /// The payload could not be encrypted.
    #[error("mail payload could not be encrypted")]
    Cipher,
    /// No randomness for an id.
    #[error("no secure randomness")]
    Random,
    /// The outbox failed.
    #[error("mail outbox: {0}")]
    Store(#[from] RepoError),
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryRound {
    /// Messages the transport accepted.
    pub sent: u32,
    /// Messages that failed and were rescheduled.
    pub retried: u32,
}

/// The mail use cases.
#[derive(Clone)]
pub struct MailQueue {
    outbox: Arc<dyn MailOutbox>,
    cipher: Arc<dyn FieldCipher>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn SecureRandom>,
}

/// The wait before attempt `attempts + 1`: 30 s, doubling, at most an hour.
pub fn backoff(attempts: u32) -> Duration {
    let exponent = attempts.saturating_sub(1).min(10);
    Duration::seconds((30i64 << exponent).min(MAX_BACKOFF_SECONDS))
}

impl MailQueue {
    /// Over its ports.
    pub fn new(
        outbox: Arc<dyn MailOutbox>,
        cipher: Arc<dyn FieldCipher>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn SecureRandom>,
    ) -> Self {
        Self {
            outbox,
            cipher,
            mailer,
            clock,
            random,
        }
    }

    /// The outbox entry for `mail`, due now, ready to be stored with what it announces.
    ///
    /// # Errors
    /// [`MailQueueError`] when it cannot be encrypted or given an id.
    pub fn prepare(&self, mail: &OutgoingMail) -> Result<QueuedMail, MailQueueError> {
        let payload = Payload {
            to: mail.to.as_str().to_owned(),
            subject: mail.subject.as_str().to_owned(),
            text: mail.text_body.clone(),
            html: mail.html_body.clone(),
        };
        let json = serde_json::to_vec(&payload).map_err(|_| MailQueueError::Cipher)?;
        let encrypted = self
            .cipher
            .encrypt(&json)
            .map_err(|_| MailQueueError::Cipher)?;
        let id = MailId::from_random(
            random_array(self.random.as_ref()).map_err(|_| MailQueueError::Random)?,
        );
        let now = self.clock.now();
        Ok(QueuedMail {
            id,
            payload: encrypted,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            sent_at: None,
            last_error: None,
        })
    }

    /// Queues `mail` on its own (when nothing else is written with it).
    ///
    /// # Errors
    /// [`MailQueueError`].
    pub async fn enqueue(&self, mail: &OutgoingMail) -> Result<(), MailQueueError> {
        let queued = self.prepare(mail)?;
        self.outbox.enqueue(&queued).await?;
        Ok(())
    }

    /// Claims due messages and hands them to the transport; failures are rescheduled with
    /// backoff. A message that cannot be decrypted (a key removed from the ring too early) is
    /// kept and retried rather than dropped.
    ///
    /// # Errors
    /// [`MailQueueError::Store`] when the outbox cannot be read or updated.
    pub async fn deliver_due(&self, limit: u32) -> Result<DeliveryRound, MailQueueError> {
        let now = self.clock.now();
        let claimed = self
            .outbox
            .claim_due(now, now + Duration::seconds(LEASE_SECONDS), limit)
            .await?;
        let mut round = DeliveryRound::default();
        for queued in claimed {
            let outcome = match self.open(&queued) {
                Ok(mail) => self.mailer.send(&mail).await.map_err(|e| e.to_string()),
                Err(why) => Err(why.to_owned()),
            };
            match outcome {
                Ok(()) => {
                    self.outbox.mark_sent(queued.id, self.clock.now()).await?;
                    round.sent += 1;
                }
                Err(error) => {
                    let attempts = queued.attempts.saturating_add(1);
                    let next = self.clock.now() + backoff(attempts);
                    tracing::warn!(mail_id = %queued.id, attempts, %error, "mail delivery failed; will retry");
                    self.outbox
                        .reschedule(queued.id, attempts, next, &error)
                        .await?;
                    round.retried += 1;
                }
            }
        }
        Ok(round)
    }

    fn open(&self, queued: &QueuedMail) -> Result<OutgoingMail, &'static str> {
        let plain = self
            .cipher
            .decrypt(&queued.payload)
            .map_err(|_| "payload cannot be decrypted with the key ring")?;
        let payload: Payload =
            serde_json::from_slice(plain.expose()).map_err(|_| "payload is not a message")?;
        Ok(OutgoingMail {
            to: Email::parse(&payload.to).map_err(|_| "recipient is invalid")?,
            subject: MailSubject::new(&payload.subject).map_err(|_| "subject is invalid")?,
            text_body: payload.text,
            html_body: payload.html,
        })
    }

    /// Messages not delivered yet.
    ///
    /// # Errors
    /// [`MailQueueError::Store`].
    pub async fn pending(&self) -> Result<u64, MailQueueError> {
        Ok(self.outbox.pending().await?)
    }

    /// Deletes the messages delivered more than `kept` ago (they hold addresses and, until they
    /// expire, working links; the delivery itself is in the log). Undelivered messages are
    /// never deleted, however old. Returns how many were deleted.
    ///
    /// # Errors
    /// [`MailQueueError::Store`].
    pub async fn purge_delivered(&self, kept: Duration) -> Result<u64, MailQueueError> {
        Ok(self
            .outbox
            .purge_sent_before(self.clock.now() - kept)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::{FernetKeyRing, OsRandom, SystemClock};
    use crate::mail::{MailError, MockMailer};
    use crate::repo::MockMailOutbox;
    use std::sync::Mutex;
    use wildid_domain::secret::SecretString;

    fn ring() -> Arc<FernetKeyRing> {
        Arc::new(FernetKeyRing::new(&[SecretString::new(fernet::Fernet::generate_key())]).unwrap())
    }

    fn mail() -> OutgoingMail {
        OutgoingMail {
            to: Email::parse("ann@example.org").unwrap(),
            subject: MailSubject::new("Your link").unwrap(),
            text_body: "https://wildid.example/auth/magic?token=SECRET".into(),
            html_body: None,
        }
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let secs: Vec<i64> = (1..=9).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }

    #[tokio::test]
    async fn delivered_mail_is_purged_after_the_time_it_is_kept() {
        let now = SystemClock.now();
        let mut outbox = MockMailOutbox::new();
        outbox
            .expect_purge_sent_before()
            .times(1)
            .withf(move |cutoff| {
                // The queue reads the clock after `now`: the cutoff is a day before, at most a
                // minute later.
                let kept = now - *cutoff;
                kept <= Duration::days(1) && kept > Duration::days(1) - Duration::minutes(1)
            })
            .returning(|_| Ok(3));
        let queue = MailQueue::new(
            Arc::new(outbox),
            ring(),
            Arc::new(MockMailer::new()),
            Arc::new(SystemClock),
            Arc::new(OsRandom),
        );
        assert_eq!(queue.purge_delivered(Duration::days(1)).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn payloads_are_encrypted_and_failures_rescheduled_not_dropped() {
        let cipher = ring();
        let stored: Arc<Mutex<Vec<QueuedMail>>> = Arc::default();
        let mut outbox = MockMailOutbox::new();
        let s = Arc::clone(&stored);
        outbox.expect_enqueue().returning(move |m| {
            s.lock().unwrap().push(m.clone());
            Ok(())
        });
        let s = Arc::clone(&stored);
        outbox
            .expect_claim_due()
            .returning(move |_, _, _| Ok(s.lock().unwrap().clone()));
        outbox
            .expect_reschedule()
            .times(1)
            .withf(|_, attempts, _, error| *attempts == 1 && error.contains("refused"))
            .returning(|_, _, _, _| Ok(()));
        outbox.expect_mark_sent().times(0);
        let mut mailer = MockMailer::new();
        mailer
            .expect_send()
            .returning(|_| Err(MailError::Unavailable("connection refused".into())));
        let queue = MailQueue::new(
            Arc::new(outbox),
            cipher,
            Arc::new(mailer),
            Arc::new(SystemClock),
            Arc::new(OsRandom),
        );
        queue.enqueue(&mail()).await.unwrap();
        let raw = stored.lock().unwrap()[0].payload.as_str().to_owned();
        assert!(
            !raw.contains("SECRET") && !raw.contains("ann@example.org"),
            "the outbox holds ciphertext"
        );
        let round = queue.deliver_due(10).await.unwrap();
        assert_eq!(
            round,
            DeliveryRound {
                sent: 0,
                retried: 1
            }
        );
    }
}
