//! Creating the SQLite file the first time, with owner-only permissions.

use std::path::Path;

use crate::DbError;

/// Checks (and when allowed, creates) the database file before SQLite opens it, so that a
/// missing file is never created by accident and a new one is readable by its owner only.
pub(crate) fn prepare(path: &Path, create: bool) -> Result<(), DbError> {
    if path.is_file() {
        return Ok(());
    }
    if !create {
        return Err(DbError::Connect(format!(
            "no database file at {}",
            path.display()
        )));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(DbError::Connect(format!(
            "the directory {} does not exist",
            parent.display()
        )));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(DbError::Connect(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}
