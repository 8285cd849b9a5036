//! Uploads built to be a picture and something else at once (polyglots): a GIF whose bytes
//! are also a script, a JPEG with a ZIP archive appended, a PNG that carries an HTML payload
//! for a browser that sniffs it. Nothing downstream would run one (only re-encoded pixels go
//! on), but such a file is not a photo anyone took, so the check refuses it by name.
//!
//! What is looked for, and why these:
//! - markup that runs script, case-insensitively, anywhere in the file: `<script`,
//!   `javascript:`, `onerror=`, `onload=`, `<iframe`, and `<?php` followed by white space. Each
//!   is long enough that compressed photo data contains it by chance about once in 2^43 bytes
//!   or less (`<?php` + space, the shortest: 2^-16 for `<?`, 2^-21 for the letters, 2^-6 for
//!   the space), so real photos are not refused;
//! - a ZIP archive: its end-of-central-directory record (`PK 05 06`) within the last 64 KiB,
//!   placed exactly where its comment length says the file ends, which is how unzip finds an
//!   archive (and so how a JPEG+ZIP polyglot is opened); a 4-byte signature alone would occur
//!   by chance in one photo in a few hundred.
//!
//! Data after the end of an image is not refused by itself: phones append their own (motion
//! photos carry a video after the JPEG).

/// The markers of script-running markup, matched without regard to ASCII case; `<?php` is
/// followed by one of the white-space bytes PHP accepts there.
const SCRIPT_MARKERS: [&str; 9] = [
    "<script",
    "javascript:",
    "onerror=",
    "onload=",
    "<iframe",
    "<?php ",
    "<?php\n",
    "<?php\r",
    "<?php\t",
];

/// One automaton for every marker, built once.
fn script_markers() -> Option<&'static AhoCorasick> {
    static MARKERS: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    MARKERS
        .get_or_init(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(SCRIPT_MARKERS)
                .ok()
        })
        .as_ref()
}

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

/// The end-of-central-directory record of a ZIP archive: signature, then 16 bytes of counts
/// and offsets, then the comment length.
const ZIP_END: &[u8; 4] = b"PK\x05\x06";
const ZIP_END_LEN: usize = 22;

/// What else `bytes` is, if it is a polyglot.
pub(crate) fn disguised_as(bytes: &[u8]) -> Option<&'static str> {
    if is_zip(bytes) {
        return Some("a ZIP archive");
    }
    if has_script(bytes) {
        return Some("a web page script");
    }
    None
}

fn has_script(bytes: &[u8]) -> bool {
    // The markers are fixed, so building cannot fail; if it did, every upload would be
    // refused as a script rather than none checked (tested below).
    script_markers().is_none_or(|markers| markers.is_match(bytes))
}

fn is_zip(bytes: &[u8]) -> bool {
    let search_from = bytes
        .len()
        .saturating_sub(ZIP_END_LEN + usize::from(u16::MAX));
    let tail = &bytes[search_from..];
    tail.windows(ZIP_END.len())
        .enumerate()
        .filter(|(_, w)| *w == ZIP_END)
        .any(|(at, _)| {
            let record = search_from + at;
            bytes
                .get(record + 20..record + 22)
                .map(|len| usize::from(u16::from_le_bytes([len[0], len[1]])))
                .is_some_and(|comment| record + ZIP_END_LEN + comment == bytes.len())
        })
}

#[cfg(test)]
mod tests {
    use super::disguised_as;

    /// An empty ZIP archive with `comment`: only its end-of-central-directory record.
    fn empty_zip(comment: &[u8]) -> Vec<u8> {
        let mut zip = b"PK\x05\x06".to_vec();
        zip.extend_from_slice(&[0; 16]);
        zip.extend_from_slice(&u16::try_from(comment.len()).unwrap().to_le_bytes());
        zip.extend_from_slice(comment);
        zip
    }

    #[test]
    fn a_picture_with_an_archive_or_a_script_is_named_for_it() {
        let picture = [0xFF_u8, 0xD8, 0xFF, 0xD9];
        let mut with_zip = picture.to_vec();
        with_zip.extend(empty_zip(b"hello"));
        assert_eq!(disguised_as(&with_zip), Some("a ZIP archive"));
        for payload in [
            b"GIF89a/*<SCRIPT>alert(1)</script>*/".as_slice(),
            b"\x89PNG..<?php system($_GET['c']); ?>",
            b"<svg onload=alert(1)>",
            b"<img src=x OnError=alert(1)>",
            b"<a href='JavaScript:alert(1)'>",
        ] {
            assert_eq!(
                disguised_as(payload),
                Some("a web page script"),
                "{payload:?}"
            );
        }
    }

    #[test]
    fn the_markers_build() {
        assert!(super::script_markers().is_some());
    }

    #[test]
    fn near_misses_are_not_refused() {
        // A ZIP signature that does not end the file where its record says, a short `<?p`.
        let mut stray = vec![1_u8; 100];
        stray.extend(empty_zip(b"hello"));
        stray.push(0);
        assert_eq!(disguised_as(&stray), None);
        for innocent in [
            b"<?php".as_slice(),
            b"<?phpx",
            b"<scrip",
            b"onerror",
            b"load=",
        ] {
            assert_eq!(disguised_as(innocent), None, "{innocent:?}");
        }
    }

    #[test]
    fn the_committed_photos_are_not_polyglots() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/photos");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "jpg" || e == "png") {
                let bytes = std::fs::read(&path).unwrap();
                assert_eq!(disguised_as(&bytes), None, "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen >= 5);
    }
}
