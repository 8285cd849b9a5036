//! The file outbox: every message becomes one `.eml` file in a directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use wildid_domain::mail::OutgoingMail;
use wildid_ports::clock::Clock;
use wildid_ports::mail::{MailError, Mailer};
use wildid_ports::random::{SecureRandom, random_array};

use crate::compose::{Sender, compose};

/// Writes each message as `<UTC time>-<random>.eml` into a directory (created if missing,
/// owner-only). File names sort chronologically. `send` returns only after the file is
/// durably renamed into place.
pub struct FileOutbox {
    dir: PathBuf,
    from: Sender,
    random: Arc<dyn SecureRandom>,
    clock: Arc<dyn Clock>,
}

impl FileOutbox {
    /// An outbox writing into `dir`.
    pub fn new(
        dir: impl Into<PathBuf>,
        from: Sender,
        random: Arc<dyn SecureRandom>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            dir: dir.into(),
            from,
            random,
            clock,
        }
    }

    /// The directory messages are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for FileOutbox {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let bytes = compose(mail, &self.from, self.random.as_ref())?.formatted();
        let suffix: [u8; 8] = random_array(self.random.as_ref())
            .map_err(|_| MailError::Unavailable("no randomness".into()))?;
        let name = format!(
            "{}-{}.eml",
            self.clock.now().format("%Y%m%dT%H%M%S%.6fZ"),
            hex::encode(suffix)
        );
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &bytes))
            .await
            .map_err(|e| MailError::Unavailable(format!("outbox task failed: {e}")))?
            .map_err(|e| MailError::Unavailable(format!("cannot write to the outbox: {e}")))
    }
}

fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    if !dir.is_dir() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
    }
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, dir.join(name))?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use wildid_domain::email::Email;
    use wildid_domain::mail::MailSubject;
    use wildid_ports::builtin::{OsRandom, SystemClock};

    fn mail(n: usize) -> OutgoingMail {
        OutgoingMail {
            to: Email::parse(&format!("user{n}@example.org")).unwrap(),
            subject: MailSubject::new("Your sign-in link").unwrap(),
            text_body: format!("message {n}"),
            html_body: None,
        }
    }

    fn outbox(dir: &Path) -> FileOutbox {
        FileOutbox::new(
            dir,
            Sender::parse("WildID <no-reply@localhost>").unwrap(),
            Arc::new(OsRandom),
            Arc::new(SystemClock),
        )
    }

    #[tokio::test]
    async fn one_complete_file_per_message() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("outbox");
        let outbox = Arc::new(outbox(&dir));
        let mut tasks = Vec::new();
        for n in 0..20 {
            let outbox = Arc::clone(&outbox);
            tasks.push(tokio::spawn(async move { outbox.send(&mail(n)).await }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 20, "{names:?}");
        assert!(
            names
                .iter()
                .all(|n| n.ends_with(".eml") && !n.starts_with('.'))
        );
        let all: String = names
            .iter()
            .map(|n| std::fs::read_to_string(dir.join(n)).unwrap())
            .collect();
        for n in 0..20 {
            assert!(all.contains(&format!("To: user{n}@example.org\r\n")));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(&names[0]))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "messages are private to the server user");
        }
    }

    #[tokio::test]
    async fn an_unwritable_outbox_is_an_error_not_a_lost_message() {
        let tmp = tempfile::tempdir().unwrap();
        let blocker = tmp.path().join("file");
        std::fs::write(&blocker, b"not a directory").unwrap();
        let result = outbox(&blocker.join("outbox")).send(&mail(1)).await;
        assert!(
            matches!(result, Err(MailError::Unavailable(_))),
            "{result:?}"
        );
    }
}
