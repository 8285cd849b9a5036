//! Sizes as people read them, for pages and error messages alike.

/// `10 MB`, `1.5 MB`: `bytes` in mebibytes, rounded up to a tenth (so a limit is never shown
/// smaller than it is), without a trailing `.0`.
pub(crate) fn megabytes(bytes: u64) -> String {
    let tenths = bytes.saturating_mul(10).div_ceil(1024 * 1024);
    if tenths.is_multiple_of(10) {
        format!("{} MB", tenths / 10)
    } else {
        format!("{}.{} MB", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::megabytes;

    #[test]
    fn sizes_read_as_megabytes() {
        assert_eq!(megabytes(10 * 1024 * 1024), "10 MB");
        assert_eq!(megabytes(1024 * 1024 + 512 * 1024), "1.5 MB");
        assert_eq!(megabytes(1), "0.1 MB");
    }
}
