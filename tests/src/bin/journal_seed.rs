//! Fills a WildID database for the journal benchmark (`bench/journal.sh`): one person with
//! ENTRIES journal entries and a signed-in session whose cookie is printed, and another with
//! SHARED sightings shared openly all over the globe. Usage:
//! `journal-seed DATABASE_URL ENTRIES SHARED` (the server must have migrated the database).
//!
//! With `postgres` for DATABASE_URL it first starts the test suite's private Postgres cluster
//! (`wildid_tests::pg`), creates a fresh database, prints its URL and waits for a line on stdin
//! (the server has migrated it); then it seeds and prints the cookie, and keeps the cluster
//! running until stdin closes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark tool: its output is the cookie, and it stops on any failure"
)]

use chrono::{TimeDelta, Utc};
use wildid_adapters_db::{Database, DatabaseUrl, PoolOptions};
use wildid_domain::identification::{Confidence, Identification, PhotoFacts, SpeciesResult};
use wildid_domain::ids::{IdentificationId, UserId};
use wildid_domain::session::{CsrfToken, Fingerprint, Session, SessionToken};
use wildid_domain::sighting::{Position, Sighting, Visibility, obscure};
use wildid_domain::text::PlainText;
use wildid_domain::user::{EmailLookup, EncryptedField, User};
use wildid_ports::repo::JournalPhoto;

/// A small deterministic generator (the benchmark needs spread, not secrecy).
struct Spread(u64);

impl Spread {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        for chunk in out.chunks_mut(8) {
            let word = self.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        out
    }

    fn within(&mut self, low: f64, high: f64) -> f64 {
        low + (self.next() % 1_000_000) as f64 / 1_000_000.0 * (high - low)
    }
}

fn text(s: &str) -> PlainText {
    PlainText::new(s, 200).unwrap()
}

fn entry(owner: UserId, n: u32, rng: &mut Spread, visibility: Visibility) -> Identification {
    let position = Position::new(rng.within(-60.0, 75.0), rng.within(-179.0, 179.0)).unwrap();
    Identification {
        id: IdentificationId::from_random(rng.bytes()),
        owner,
        created_at: Utc::now() - TimeDelta::seconds(i64::from(n)),
        provider: "local-model".into(),
        upload_sha256: rng.bytes(),
        photo: PhotoFacts {
            width: 768,
            height: 512,
            stored_bytes: 64,
        },
        result: SpeciesResult {
            is_animal: true,
            species: text("Phascolarctos cinereus"),
            common_name: text("Koala"),
            animal_type: Some(text("mammal")),
            conservation_status: Some(text("Least Concern")),
            confidence: Confidence::High,
            description: Some(text("A koala in a eucalyptus fork.")),
            notes: None,
            alternatives: Vec::new(),
        },
        sighting: Sighting {
            position: Some(position),
            observed_at: None,
            notes: Some(text("In the tall gums by the creek")),
        },
        visibility,
        obscured_position: Some(obscure(position, rng.bytes())),
        feedback: None,
    }
}

fn user(rng: &mut Spread) -> User {
    User::new(
        UserId::from_random(rng.bytes()),
        EmailLookup::from_bytes(rng.bytes()),
        EncryptedField::new("gAAAA-benchmark".into()),
        Utc::now(),
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, entries, shared] = args.as_slice() else {
        panic!("usage: journal-seed DATABASE_URL ENTRIES SHARED");
    };
    let (entries, shared): (u32, u32) = (entries.parse().unwrap(), shared.parse().unwrap());
    let url = if url == "postgres" {
        let Some(DatabaseUrl::Postgres(url)) = wildid_tests::db::fresh_postgres_url().await else {
            panic!("no Postgres here");
        };
        println!("{}", url.expose());
        wait_for_line();
        url.expose().to_owned()
    } else {
        url.clone()
    };
    seed(&url, entries, shared).await;
    if args[1] == "postgres" {
        // The cluster lives as long as this process.
        wait_for_line();
    }
}

/// Blocks until a line (or the end) arrives on stdin.
fn wait_for_line() {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
}

async fn seed(url: &str, entries: u32, shared: u32) {
    let db = Database::open(&DatabaseUrl::parse(url).unwrap(), PoolOptions::default()).unwrap();
    let mut rng = Spread(0x9E37_79B9_7F4A_7C15);
    let photo = JournalPhoto {
        bytes: vec![0xFF; 48],
        media_type: "image/jpeg".into(),
        thumbnail: vec![0xFF; 16],
    };
    let (reader, sharer) = (user(&mut rng), user(&mut rng));
    db.users().insert(&reader).await.unwrap();
    db.users().insert(&sharer).await.unwrap();
    let journal = db.identifications();
    for n in 0..entries {
        let e = entry(reader.id(), n, &mut rng, Visibility::Private);
        journal.insert(&e, &photo, u64::MAX / 2).await.unwrap();
    }
    for n in 0..shared {
        let e = entry(sharer.id(), n, &mut rng, Visibility::Open);
        journal.insert(&e, &photo, u64::MAX / 2).await.unwrap();
    }
    // A signed-in session for a client that sends no User-Agent, Accept-Language or
    // Accept-Encoding (as wrk does).
    let token = SessionToken::from_random(rng.bytes());
    let now = Utc::now();
    let session = Session::new_signed_in(
        token.key(),
        reader.id(),
        Fingerprint::from_headers("", "", ""),
        CsrfToken::from_random(rng.bytes()),
        now,
    );
    db.sessions().insert(&session).await.unwrap();
    // A server on loopback sets Secure cookies with the `__Host-` prefix (`compose::secure_cookies`).
    println!("__Host-wildid-session={}", token.encode().expose());
}
