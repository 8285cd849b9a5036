//! The data directory: database file, development secrets, mail outbox.

use std::path::Path;

/// Creates the directory (owner-only) if it does not exist.
///
/// # Errors
/// A message naming the directory.
pub fn ensure(dir: &Path) -> Result<(), String> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))
}
