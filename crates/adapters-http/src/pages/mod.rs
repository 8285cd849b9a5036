//! Server-rendered pages. Templates (askama, in `templates/`) escape every value by default.

pub(crate) mod account;
pub(crate) mod admin;
pub(crate) mod answer;
pub(crate) mod api_docs;
pub(crate) mod auth;
pub(crate) mod captcha;
pub(crate) mod email_change;
pub(crate) mod identify;
pub(crate) mod journal;
pub(crate) mod landing;
pub(crate) mod layout;
pub(crate) mod magic;
pub(crate) mod map;
pub(crate) mod nav;
pub(crate) mod notifications;
pub(crate) mod profile;
pub(crate) mod visits;

#[cfg(test)]
mod tests {
    use askama::Template;

    /// A form using the shared field macro, as later pages do.
    #[derive(Template)]
    #[template(
        source = r#"{% import "forms.html" as forms %}<form>{% call forms::field("email", "Email address", "email", value, "We send a sign-in link.", error, "email", true) %}{% endcall %}</form>"#,
        ext = "html"
    )]
    struct Form<'a> {
        value: &'a str,
        error: &'a str,
    }

    #[test]
    fn fields_have_labels_hints_and_announced_errors() {
        let html = Form {
            value: "\"><script>alert(1)</script>",
            error: "the domain after @ is not valid",
        }
        .render()
        .unwrap();
        assert!(html.contains(r#"<label for="email">Email address</label>"#));
        assert!(html.contains(r#"aria-invalid="true""#));
        assert!(html.contains(r#"aria-describedby="email-hint email-error""#));
        assert!(
            html.contains(
                r#"<p class="error" id="email-error">the domain after @ is not valid</p>"#
            )
        );
        assert!(!html.contains("<script>"), "values are escaped: {html}");
        let clean = Form {
            value: "",
            error: "",
        }
        .render()
        .unwrap();
        assert!(
            !clean.contains("aria-invalid") && clean.contains(r#"aria-describedby="email-hint ""#)
        );
    }
}
