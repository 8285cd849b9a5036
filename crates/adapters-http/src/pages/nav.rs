//! The main navigation: what the signed-in role may do, and nothing more.

use wildid_domain::role::Role;

/// One link of the main navigation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    /// Rendered as `aria-current="page"`.
    pub current: bool,
}

/// (path, label, least role that sees it; `None` = only signed-out visitors see it). Only
/// pages that exist (`every_link_is_a_page_of_the_router` keeps this true).
const LINKS: &[(&str, &str, Option<Role>)] = &[
    ("/identify", "Identify", Some(Role::Visitor)),
    ("/history", "Journal", Some(Role::Visitor)),
    ("/map", "Map", Some(Role::Visitor)),
    ("/visits", "Visits", Some(Role::Visitor)),
    ("/notifications", "Notifications", Some(Role::Visitor)),
    ("/worker", "Worker", Some(Role::Worker)),
    ("/admin", "Admin", Some(Role::Admin)),
    ("/account", "Account", Some(Role::Visitor)),
];

/// The links for a viewer (`None` when signed out), marking the one for `current_path`.
pub(crate) fn nav_for(viewer: Option<Role>, current_path: &str) -> Vec<NavItem> {
    let item = |href: &'static str, label: &'static str| NavItem {
        href,
        label,
        current: href == current_path,
    };
    match viewer {
        None => vec![
            item("/identify", "Identify"),
            item("/map", "Map"),
            item("/visits", "Visits"),
            item("/auth/sign-in", "Sign in"),
        ],
        Some(role) => LINKS
            .iter()
            .filter(|(_, _, least)| least.is_some_and(|least| role.includes(least)))
            .map(|(href, label, _)| item(href, label))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(viewer: Option<Role>) -> Vec<&'static str> {
        nav_for(viewer, "/").into_iter().map(|i| i.label).collect()
    }

    #[test]
    fn each_role_sees_its_own_links() {
        assert_eq!(labels(None), ["Identify", "Map", "Visits", "Sign in"]);
        assert_eq!(
            labels(Some(Role::Visitor)),
            [
                "Identify",
                "Journal",
                "Map",
                "Visits",
                "Notifications",
                "Account"
            ]
        );
        assert_eq!(
            labels(Some(Role::Worker)),
            [
                "Identify",
                "Journal",
                "Map",
                "Visits",
                "Notifications",
                "Worker",
                "Account"
            ]
        );
        assert_eq!(
            labels(Some(Role::Admin)),
            [
                "Identify",
                "Journal",
                "Map",
                "Visits",
                "Notifications",
                "Worker",
                "Admin",
                "Account"
            ]
        );
        assert!(nav_for(None, "/identify")[0].current);
    }

    #[test]
    fn every_link_is_a_page_of_the_router() {
        let pages: Vec<&str> = crate::routes::table()
            .into_iter()
            .filter(|r| r.method == axum::http::Method::GET)
            .map(|r| r.path)
            .collect();
        for viewer in [
            None,
            Some(Role::Visitor),
            Some(Role::Worker),
            Some(Role::Admin),
        ] {
            for item in nav_for(viewer, "/") {
                assert!(
                    pages.contains(&item.href),
                    "{viewer:?}: {} is no page",
                    item.href
                );
            }
        }
    }
}
