//! Journal pages already made, kept per person and journal version so the page a volunteer
//! opens most (`/history`) is not read and rendered again until their journal changes.
//!
//! Why it is safe to serve a kept page:
//! - The key holds the owner, so one person's page is never another's.
//! - The key holds the journal's version (`JournalStamp::version`), read from the database
//!   *before* the entries: the version moves in the same transaction as every change to the
//!   journal (database triggers, whatever code path writes), so what was read after it is at
//!   least as new, and a change made on any server process gives every process a new key.
//! - The key holds the filter and the cursor exactly as sent, and a page is kept only after
//!   the journal accepted that cursor for that owner (cursors are sealed per owner and do not
//!   expire), so a kept page is never a way around the cursor check.
//! - Only what is the same for every request is kept: the rendered list of entries and the
//!   next page's link. The layout (CSP nonce, CSRF token, messages, navigation) is made anew.
//!
//! A deleted account's pages are dropped at once when a route of this process deleted it
//! ([`JournalPages::forget`]); after a deletion elsewhere (another process, `wildid users
//! delete`) they are unreachable (the account's sessions went with it, and user ids are never
//! given twice) and age out.
//!
//! Memory is bounded by weight: at most [`JOURNAL_PAGES_BYTES`] of kept HTML per process,
//! least recently used first out.

use std::sync::Arc;

use askama::Template;
use wildid_domain::ids::UserId;

/// Most bytes of rendered journal pages one server process keeps.
pub const JOURNAL_PAGES_BYTES: u64 = 16 * 1024 * 1024;

/// A template whose output may be included in a page as it is: one that escapes every value
/// it renders (askama's default for `.html` templates) and never marks a value safe
/// (`|safe`, `escape = "none"`). Implemented for each fragment by name, after reading it.
pub(crate) trait EscapedFragment: Template {}

/// HTML rendered from an [`EscapedFragment`], which escaped every value as it rendered: the
/// only HTML a template may include as it is. It can be made in no other way.
pub(crate) struct RenderedHtml(String);

impl RenderedHtml {
    /// `fragment`, rendered.
    pub(crate) fn of(fragment: &impl EscapedFragment) -> Result<Self, askama::Error> {
        fragment.render().map(Self)
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

impl std::fmt::Display for RenderedHtml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Already escaped when its template rendered it.
impl askama::filters::HtmlSafe for RenderedHtml {}

/// Which page of whose journal, at which version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PageKey {
    pub owner: UserId,
    pub version: u64,
    pub animal_type: Option<String>,
    pub marked_wrong: bool,
    pub cursor: Option<String>,
}

/// A page as kept: its rendered entries and the link to the next page.
pub(crate) struct MadePage {
    pub entries: RenderedHtml,
    pub next: Option<String>,
}

#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<PageKey, Arc<MadePage>> for ByBytes {
    fn weight(&self, key: &PageKey, page: &Arc<MadePage>) -> u64 {
        let text = |t: &Option<String>| t.as_ref().map_or(0, String::len);
        (page.entries.len() + text(&page.next) + text(&key.cursor) + text(&key.animal_type) + 64)
            as u64
    }
}

/// Rendered journal pages of one server process.
pub struct JournalPages {
    pages: quick_cache::sync::Cache<PageKey, Arc<MadePage>, ByBytes>,
}

impl JournalPages {
    /// Keeps at most `bytes` of rendered pages (0: keeps none).
    #[must_use]
    pub fn new(bytes: u64) -> Self {
        // About 30 KB a page.
        let pages = usize::try_from(bytes / 30_000).unwrap_or(usize::MAX).max(1);
        Self {
            pages: quick_cache::sync::Cache::with_weighter(pages, bytes, ByBytes),
        }
    }

    pub(crate) fn get(&self, key: &PageKey) -> Option<Arc<MadePage>> {
        self.pages.get(key)
    }

    pub(crate) fn keep(&self, key: PageKey, page: Arc<MadePage>) {
        self.pages.insert(key, page);
    }

    /// Drops every page of `owner` (their account is deleted).
    pub(crate) fn forget(&self, owner: UserId) {
        self.pages.retain(|key, _| key.owner != owner);
    }
}

impl Default for JournalPages {
    fn default() -> Self {
        Self::new(JOURNAL_PAGES_BYTES)
    }
}

impl std::fmt::Debug for JournalPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalPages")
            .field("pages", &self.pages.len())
            .field("bytes", &self.pages.weight())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Template)]
    #[template(source = "<p>{{ text }}</p>", ext = "html")]
    struct Paragraph<'a> {
        text: &'a str,
    }

    impl EscapedFragment for Paragraph<'_> {}

    #[derive(Template)]
    #[template(source = "<div>{{ inner }}</div>", ext = "html")]
    struct Holder {
        inner: RenderedHtml,
    }

    #[test]
    fn rendered_html_is_escaped_once_when_made_and_not_again_when_included() {
        let inner = RenderedHtml::of(&Paragraph {
            text: "<script>alert(1)</script>",
        })
        .unwrap();
        let page = Holder { inner }.render().unwrap();
        assert_eq!(
            page,
            "<div><p>&#60;script&#62;alert(1)&#60;/script&#62;</p></div>"
        );
    }

    fn key(owner: u8, version: u64) -> PageKey {
        PageKey {
            owner: UserId::from_random([owner; 16]),
            version,
            animal_type: None,
            marked_wrong: false,
            cursor: None,
        }
    }

    fn page(text: &str) -> Arc<MadePage> {
        Arc::new(MadePage {
            entries: RenderedHtml::of(&Paragraph { text }).unwrap(),
            next: None,
        })
    }

    #[test]
    fn a_page_is_found_only_by_its_owner_version_filter_and_cursor() {
        let pages = JournalPages::default();
        pages.keep(key(1, 7), page("one"));
        assert!(pages.get(&key(1, 7)).is_some());
        assert!(pages.get(&key(2, 7)).is_none(), "another person");
        assert!(pages.get(&key(1, 8)).is_none(), "a newer journal");
        let filtered = PageKey {
            marked_wrong: true,
            ..key(1, 7)
        };
        assert!(pages.get(&filtered).is_none());
        let later = PageKey {
            cursor: Some("c".into()),
            ..key(1, 7)
        };
        assert!(pages.get(&later).is_none());
    }

    #[test]
    fn memory_is_bounded_by_the_bytes_given() {
        let pages = JournalPages::new(200_000);
        let big = "x".repeat(30_000);
        for version in 0..100 {
            pages.keep(key(1, version), page(&big));
        }
        assert!(pages.pages.weight() <= 200_000, "{pages:?}");
        assert!(pages.get(&key(1, 99)).is_some(), "the newest is kept");
        pages.keep(key(2, 1), page("theirs"));
        pages.forget(UserId::from_random([1; 16]));
        assert!(pages.get(&key(1, 99)).is_none(), "forgotten");
        assert!(pages.get(&key(2, 1)).is_some(), "another person's stays");
        let none = JournalPages::new(0);
        none.keep(key(1, 1), page("one"));
        assert!(none.get(&key(1, 1)).is_none(), "0 keeps nothing");
    }
}
