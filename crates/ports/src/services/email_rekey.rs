//! The address index across a pepper rotation: [`locate`] finds an account by its address under
//! whichever pepper of the ring made its stored digest, and [`EmailRekey`] walks every stored
//! digest (accounts, and the unused links that carry an address) over to the current pepper,
//! after which the older pepper can be dropped.
//!
//! Rotation, as an operator runs it (docs/configuration.md, "Rotating the email pepper"): every
//! server gets the new pepper as `WILDID_EMAIL_PEPPER` and the old one in
//! `WILDID_EMAIL_PEPPER_PREVIOUS`; `wildid keys rekey-emails` then moves every digest; once a
//! walk reports nothing left, conflicting or unreadable, the previous pepper is removed.

use std::sync::Arc;

use wildid_domain::audit::{self, Actor, AuditDetails, AuditRecord};
use wildid_domain::email::Email;
use wildid_domain::user::{EmailLookup, User};

use crate::RepoError;
use crate::clock::Clock;
use crate::crypto::{EmailIndex, FieldCipher};
use crate::repo::{LoginTokenRepository, StoredAddress, UserRepository};
use crate::services::audit::AuditTrail;

/// Rows read per batch of the walk.
pub const BATCH: u32 = 500;

/// An account looked up by address, and the digest that names its address in storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The account, if the address has one.
    pub user: Option<User>,
    /// The account's stored digest when there is one (which may have been made under an older
    /// pepper during a rotation), else the current pepper's: the digest a link sent to the
    /// address must carry so that it finds the same account.
    pub lookup: EmailLookup,
}

/// The account of `email`: its digest under the current pepper first, then under each older
/// pepper of the ring. One query outside a rotation.
///
/// # Errors
/// Only storage failures.
pub async fn locate(
    users: &dyn UserRepository,
    index: &dyn EmailIndex,
    email: &Email,
) -> Result<Located, RepoError> {
    let current = index.lookup(email);
    if let Some(user) = users.find_by_email(&current).await? {
        return Ok(Located {
            user: Some(user),
            lookup: current,
        });
    }
    for older in index.previous_lookups(email) {
        if let Some(user) = users.find_by_email(&older).await? {
            return Ok(Located {
                user: Some(user),
                lookup: older,
            });
        }
    }
    Ok(Located {
        user: None,
        lookup: current,
    })
}

/// What the walk works on.
#[derive(Clone)]
pub struct EmailRekeyPorts {
    /// The accounts.
    pub users: Arc<dyn UserRepository>,
    /// The links that carry an address.
    pub tokens: Arc<dyn LoginTokenRepository>,
    /// The ring of peppers.
    pub index: Arc<dyn EmailIndex>,
    /// The field key ring that opens the stored addresses.
    pub cipher: Arc<dyn FieldCipher>,
    /// Where each walk is recorded.
    pub audit: AuditTrail,
    /// The audit entry's time.
    pub clock: Arc<dyn Clock>,
}

/// A row the walk could not move, named by its key (never its address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stuck {
    /// No key of the field ring opens the stored address (or it is not an address): kept as
    /// it is.
    Unreadable(String),
    /// Another account already holds the address's current digest: two accounts of one
    /// address (made during the rotation by a server that did not yet know the new pepper).
    /// Both are kept; an operator merges or removes one.
    Conflict(String),
}

/// What a walk reports as it goes (for a progress bar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// About this many accounts are to be looked at (sent once, first).
    Total(u64),
    /// This many more rows were looked at.
    Examined(u64),
    /// A row could not be moved.
    Stuck(Stuck),
}

/// What a walk did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rekeyed {
    /// Accounts and links looked at.
    pub examined: u64,
    /// Accounts moved to the current pepper (with their links).
    pub accounts: u64,
    /// Links that carry an address moved to the current pepper.
    pub links: u64,
    /// Rows whose address no key opens (kept).
    pub unreadable: u64,
    /// Accounts whose current digest another account holds (kept).
    pub conflicts: u64,
}

impl Rekeyed {
    /// Whether nothing stands in the way of dropping the older peppers: no row was left behind.
    pub fn complete(&self) -> bool {
        self.unreadable == 0 && self.conflicts == 0
    }
}

/// The walk stopped (the rows moved so far stay moved; running it again goes on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("re-keying the address index stopped: {0}")]
pub struct RekeyError(#[from] pub RepoError);

/// The re-keying use case.
#[derive(Clone)]
pub struct EmailRekey {
    ports: EmailRekeyPorts,
}

impl EmailRekey {
    /// Over its ports.
    pub fn new(ports: EmailRekeyPorts) -> Self {
        Self { ports }
    }

    /// Moves every stored digest to the current pepper, as `actor`, telling `on` how it goes.
    /// Every change is a compare-and-set on the digest read, so running it twice, or beside the
    /// servers, is safe; a row already under the current pepper is left alone. Audited
    /// (`keys.email_rekeyed`, counts only).
    ///
    /// # Errors
    /// [`RekeyError`]: the database failed; what was moved stays moved.
    pub async fn run(
        &self,
        actor: Actor,
        on: &mut (dyn FnMut(Event) + Send),
    ) -> Result<Rekeyed, RekeyError> {
        on(Event::Total(self.ports.users.count().await?));
        let mut done = Rekeyed::default();
        let mut after = None;
        loop {
            let page = self.ports.users.addresses(after, BATCH).await?;
            for row in &page {
                self.account(row, &mut done, on).await?;
            }
            on(Event::Examined(page.len() as u64));
            match page.last() {
                Some(last) if page.len() == BATCH as usize => after = Some(last.key),
                _ => break,
            }
        }
        let mut after = None;
        loop {
            let page = self.ports.tokens.addresses(after, BATCH).await?;
            for row in &page {
                done.examined += 1;
                let Some(current) = self.current(&row.encrypted) else {
                    done.unreadable += 1;
                    on(Event::Stuck(Stuck::Unreadable("an unused link".to_owned())));
                    continue;
                };
                if current != row.lookup
                    && self
                        .ports
                        .tokens
                        .rekey_address(&row.key, &row.lookup, &current)
                        .await?
                {
                    done.links += 1;
                }
            }
            match page.last() {
                Some(last) if page.len() == BATCH as usize => after = Some(last.key),
                _ => break,
            }
        }
        let mut record = AuditRecord::new(
            self.ports.clock.now(),
            actor,
            audit::Action::EmailIndexRekeyed,
        );
        record.details = AuditDetails::new()
            .with("examined", done.examined.to_string())
            .with("accounts", done.accounts.to_string())
            .with("links", done.links.to_string())
            .with("unreadable", done.unreadable.to_string())
            .with("conflicts", done.conflicts.to_string());
        self.ports.audit.record_or_log(record).await;
        Ok(done)
    }

    /// One account.
    async fn account(
        &self,
        row: &StoredAddress<wildid_domain::ids::UserId>,
        done: &mut Rekeyed,
        on: &mut (dyn FnMut(Event) + Send),
    ) -> Result<(), RekeyError> {
        done.examined += 1;
        let Some(current) = self.current(&row.encrypted) else {
            done.unreadable += 1;
            on(Event::Stuck(Stuck::Unreadable(format!(
                "account {}",
                row.key
            ))));
            return Ok(());
        };
        if current == row.lookup {
            return Ok(());
        }
        match self
            .ports
            .users
            .rekey_address(row.key, &row.lookup, &current)
            .await
        {
            Ok(true) => done.accounts += 1,
            // Changed since it was read (a new address, or deleted): nothing to move.
            Ok(false) => {}
            Err(RepoError::Duplicate) => {
                done.conflicts += 1;
                on(Event::Stuck(Stuck::Conflict(format!(
                    "account {}",
                    row.key
                ))));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// The current pepper's digest of a stored address; `None` when it cannot be opened.
    fn current(&self, encrypted: &wildid_domain::user::EncryptedField) -> Option<EmailLookup> {
        let plain = self.ports.cipher.decrypt(encrypted).ok()?;
        let text = std::str::from_utf8(plain.expose()).ok()?;
        let email = Email::parse(text).ok()?;
        Some(self.ports.index.lookup(&email))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Mutex;

    use wildid_domain::audit::AuditEntry;
    use wildid_domain::ids::UserId;
    use wildid_domain::secret::{SecretBytes, SecretString};
    use wildid_domain::user::EncryptedField;

    use super::*;
    use crate::builtin::{FernetKeyRing, HmacEmailIndex};
    use crate::repo::{MockAuditLog, MockLoginTokenRepository, MockUserRepository};
    use crate::services::fixtures::{FixedClock, t0};

    fn pepper(n: u8) -> SecretBytes {
        SecretBytes::new(vec![n; 32])
    }

    fn email(address: &str) -> Email {
        Email::parse(address).unwrap()
    }

    fn person(n: u8) -> UserId {
        UserId::from_random([n; 16])
    }

    #[tokio::test]
    async fn locate_tries_the_current_pepper_then_the_older_ones_and_names_the_stored_digest() {
        let old = HmacEmailIndex::new(pepper(1)).unwrap();
        let ring = HmacEmailIndex::with_previous(pepper(2), vec![pepper(1)]).unwrap();
        let ann = email("ann@example.org");
        let stored = old.lookup(&ann);
        let mut users = MockUserRepository::new();
        users.expect_find_by_email().returning(move |lookup| {
            Ok((*lookup == stored)
                .then(|| User::new(person(1), stored, EncryptedField::new("x".into()), t0())))
        });
        let found = locate(&users, &ring, &ann).await.unwrap();
        assert_eq!(found.user.map(|u| u.id()), Some(person(1)));
        assert_eq!(
            found.lookup, stored,
            "a link must carry the account's digest"
        );
        let nobody = locate(&users, &ring, &email("bob@example.org"))
            .await
            .unwrap();
        assert_eq!(nobody.user, None);
        assert_eq!(nobody.lookup, ring.lookup(&email("bob@example.org")));
        // Outside a rotation, one query.
        let mut users = MockUserRepository::new();
        users
            .expect_find_by_email()
            .times(1)
            .returning(|_| Ok(None));
        let alone = HmacEmailIndex::new(pepper(2)).unwrap();
        locate(&users, &alone, &ann).await.unwrap();
    }

    /// Accounts: 1 and 2 under the old pepper, 3 already under the new one, 4 unreadable, 5 in
    /// conflict (its new digest is taken). One link under the old pepper.
    #[tokio::test]
    async fn every_digest_moves_and_what_cannot_is_kept_named_and_counted() {
        let field =
            FernetKeyRing::new(&[SecretString::new(fernet::Fernet::generate_key())]).unwrap();
        let old = HmacEmailIndex::new(pepper(1)).unwrap();
        let ring = HmacEmailIndex::with_previous(pepper(2), vec![pepper(1)]).unwrap();
        let row = |n: u8, index: &HmacEmailIndex| {
            let address = email(&format!("person{n}@example.org"));
            StoredAddress {
                key: person(n),
                lookup: index.lookup(&address),
                encrypted: field.encrypt(address.as_str().as_bytes()).unwrap(),
            }
        };
        let mut rows = vec![row(1, &old), row(2, &old), row(3, &ring)];
        rows.push(StoredAddress {
            key: person(4),
            lookup: EmailLookup::from_bytes([4; 32]),
            encrypted: EncryptedField::new("gAAAAA-from-no-key".into()),
        });
        rows.push(row(5, &old));
        let link = StoredAddress {
            key: wildid_domain::token::RawToken::from_random([9; 32]).hash(),
            lookup: old.lookup(&email("newt@example.org")),
            encrypted: field.encrypt(b"newt@example.org").unwrap(),
        };
        let expected_link = ring.lookup(&email("newt@example.org"));

        let mut users = MockUserRepository::new();
        users.expect_count().returning(|| Ok(5));
        let pages = rows.clone();
        users.expect_addresses().returning(move |after, _| {
            Ok(if after.is_none() {
                pages.clone()
            } else {
                vec![]
            })
        });
        let moved = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&moved);
        let (from_1, to_1) = (rows[0].lookup, ring.lookup(&email("person1@example.org")));
        users.expect_rekey_address().returning(move |id, from, to| {
            if id == person(5) {
                return Err(RepoError::Duplicate);
            }
            seen.lock().unwrap().push((id, *from, *to));
            Ok(true)
        });
        let mut tokens = MockLoginTokenRepository::new();
        let one = link.clone();
        tokens
            .expect_addresses()
            .returning(move |_, _| Ok(vec![one.clone()]));
        tokens
            .expect_rekey_address()
            .withf(move |_, from, to| *from == link.lookup && *to == expected_link)
            .times(1)
            .returning(|_, _, _| Ok(true));
        let audited = Arc::new(Mutex::new(Vec::new()));
        let log_seen = Arc::clone(&audited);
        let mut log = MockAuditLog::new();
        log.expect_append().returning(move |record| {
            log_seen.lock().unwrap().push(format!(
                "{} {:?}",
                record.action.as_str(),
                record.details
            ));
            Ok(AuditEntry::append_to(None, record))
        });
        let walk = EmailRekey::new(EmailRekeyPorts {
            users: Arc::new(users),
            tokens: Arc::new(tokens),
            index: Arc::new(ring),
            cipher: Arc::new(field),
            audit: AuditTrail::new(Arc::new(log)),
            clock: Arc::new(FixedClock(t0())),
        });
        let mut events = Vec::new();
        let done = walk
            .run(Actor::System, &mut |e| events.push(e))
            .await
            .unwrap();
        assert_eq!(
            done,
            Rekeyed {
                examined: 6,
                accounts: 2,
                links: 1,
                unreadable: 1,
                conflicts: 1
            }
        );
        assert!(!done.complete());
        let moved = moved.lock().unwrap().clone();
        assert_eq!(moved.len(), 2, "3 is already current: {moved:?}");
        assert_eq!(moved[0], (person(1), from_1, to_1));
        assert!(events.contains(&Event::Stuck(Stuck::Unreadable(format!(
            "account {}",
            person(4)
        )))));
        assert!(events.contains(&Event::Stuck(Stuck::Conflict(format!(
            "account {}",
            person(5)
        )))));
        let audited = audited.lock().unwrap().join("\n");
        assert!(audited.starts_with("keys.email_rekeyed"), "{audited}");
        assert!(
            !audited.contains("example.org"),
            "no address in the audit: {audited}"
        );
    }
}
