//! `GET /account/export` (fresh): everything WildID keeps about the signed-in person, as one
//! ZIP archive: `account.json` (the account's facts and its sessions), `identifications.json`
//! (every journal entry with its whole answer, sighting with its true coordinates, and
//! feedback) and `photos/<id>.<ext>` (each kept photo), with a `README.txt` saying what is
//! where.
//!
//! The archive is streamed as it is written: entries are read a page at a time and photos one
//! at a time, so memory stays bounded however large the journal (photos are JPEGs already,
//! so they are stored, not compressed). A failure part-way ends the download with an error,
//! which browsers report as a failed download, never as a complete archive.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use wildid_ports::repo::{JournalFilter, PhotoSize};
use wildid_ports::services::journal::MAX_PAGE;

use crate::api_types::EntryView;
use crate::error::AppError;
use crate::session::{Fresh, SignedIn};
use crate::state::AppState;

/// What `README.txt` says.
const README: &str = "Your WildID data\n\n\
account.json          your account: address, role, when it was made, your sessions\n\
identifications.json  every identification in your journal, newest first: the answer, where\n                      \
and when you saw the animal (true coordinates), your feedback\n\
photos/               the photo of each identification, named by its id\n";

#[derive(Serialize)]
struct AccountFacts {
    id: String,
    email: String,
    role: String,
    created_at: String,
    email_verified: bool,
    two_factor: bool,
    has_password: bool,
    display_name: Option<String>,
    sessions: Vec<SessionFacts>,
}

#[derive(Serialize)]
struct SessionFacts {
    started: String,
    last_seen: String,
    device: Option<String>,
    network: Option<String>,
}

/// A `Write` whose bytes are taken out after each archive entry and sent on.
#[derive(Clone, Default)]
struct Pipe(Arc<Mutex<Vec<u8>>>);

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("archive buffer poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Pipe {
    fn take(&self) -> Bytes {
        self.0
            .lock()
            .map(|mut buf| Bytes::from(std::mem::take(&mut *buf)))
            .unwrap_or_default()
    }
}

type Chunk = Result<Bytes, std::io::Error>;

/// `GET /account/export` (fresh).
pub(crate) async fn export(
    State(state): State<AppState>,
    Fresh(signed_in): Fresh,
) -> Result<Response, AppError> {
    // The account's facts are read before the answer starts, so a failure here is a clean
    // error page rather than a broken download.
    let facts = account_facts(&state, &signed_in).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(4);
    let owner = signed_in.user.id();
    tokio::spawn(async move {
        if let Err(e) = write_archive(&state, owner, &facts, &tx).await {
            tracing::error!(error = %e, "the data export failed part-way");
            let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok((
        [
            (CONTENT_TYPE, "application/zip"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"wildid-my-data.zip\"",
            ),
            (CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

async fn account_facts(state: &AppState, signed_in: &SignedIn) -> Result<AccountFacts, AppError> {
    let profile = state.services.accounts.profile(&signed_in.user)?;
    let sessions = state.services.sessions.list(signed_in.user.id()).await?;
    Ok(AccountFacts {
        id: profile.id.to_string(),
        email: profile.email,
        role: profile.role.as_str().to_owned(),
        created_at: profile.created_at.to_rfc3339(),
        email_verified: profile.email_verified,
        two_factor: profile.totp_enabled,
        has_password: profile.has_password,
        display_name: profile.display_name,
        sessions: sessions
            .iter()
            .map(|s| SessionFacts {
                started: s.created_at().to_rfc3339(),
                last_seen: s.last_seen_at().to_rfc3339(),
                device: s.device().map(str::to_owned),
                network: s.coarse_ip().map(str::to_owned),
            })
            .collect(),
    })
}

/// The file name extension of a stored photo's media type.
fn extension(media_type: &str) -> &'static str {
    match media_type {
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/bmp" => "bmp",
        _ => "jpg",
    }
}

/// Writes the archive into `tx`, entry by entry.
async fn write_archive(
    state: &AppState,
    owner: wildid_domain::ids::UserId,
    facts: &AccountFacts,
    tx: &tokio::sync::mpsc::Sender<Chunk>,
) -> Result<(), String> {
    let pipe = Pipe::default();
    let mut zip = zip::ZipWriter::new_stream(pipe.clone());
    let stored = || {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(false)
    };
    let send = |bytes: Bytes| async move {
        if bytes.is_empty() {
            return Ok(());
        }
        tx.send(Ok(bytes))
            .await
            .map_err(|_| "the download was cancelled".to_owned())
    };
    let put = |zip: &mut zip::ZipWriter<zip::write::StreamWriter<Pipe>>,
               name: &str,
               bytes: &[u8]|
     -> Result<(), String> {
        zip.start_file(name, stored()).map_err(|e| e.to_string())?;
        zip.write_all(bytes).map_err(|e| e.to_string())
    };
    put(&mut zip, "README.txt", README.as_bytes())?;
    put(&mut zip, "account.json", &pretty(facts)?)?;
    send(pipe.take()).await?;

    let journal = &state.services.journal;
    let mut entries = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = journal
            .page(
                owner,
                &JournalFilter::default(),
                cursor.as_deref(),
                MAX_PAGE,
            )
            .await
            .map_err(|e| e.to_string())?;
        for entry in &page.entries {
            let picture = journal
                .picture(owner, entry.id, PhotoSize::Full, None)
                .await
                .map_err(|e| e.to_string())?;
            let name = format!("photos/{}.{}", entry.id, extension(&picture.media_type));
            put(&mut zip, &name, &picture.bytes)?;
            send(pipe.take()).await?;
            entries.push(EntryView::from(entry));
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    put(&mut zip, "identifications.json", &pretty(&entries)?)?;
    zip.finish().map_err(|e| e.to_string())?;
    send(pipe.take()).await
}

/// A document of the archive, pretty-printed.
fn pretty<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    serde_json::to_vec_pretty(value).map_err(|e| e.to_string())
}
