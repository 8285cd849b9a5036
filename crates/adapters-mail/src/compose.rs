//! Turning the core's `OutgoingMail` into an RFC 5322 message.

use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use wildid_domain::mail::OutgoingMail;
use wildid_ports::mail::MailError;
use wildid_ports::random::{SecureRandom, random_array};

/// The `From:` of every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender(Mailbox);

impl std::fmt::Display for Sender {
    /// As the `From:` header writes it: `WildID <no-reply@example.org>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The configured sender is not a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("WILDID_MAIL_FROM is not a valid mailbox, as in: WildID <no-reply@example.org>")]
pub struct InvalidSender;

impl Sender {
    /// Parses `Name <address>` or a bare address.
    ///
    /// # Errors
    /// [`InvalidSender`] when it does not parse or holds control characters.
    pub fn parse(raw: &str) -> Result<Self, InvalidSender> {
        if raw.chars().any(char::is_control) {
            return Err(InvalidSender);
        }
        raw.trim()
            .parse::<Mailbox>()
            .map(Self)
            .map_err(|_| InvalidSender)
    }

    /// The domain used in generated Message-IDs.
    fn domain(&self) -> &str {
        self.0.email.domain()
    }
}

/// Builds the message: a `Message-ID` from the CSPRNG, `Date` of now, a plain-text part and
/// an optional HTML alternative.
///
/// # Errors
/// [`MailError::Rejected`] when lettre refuses the message (it should not, for validated
/// input), [`MailError::Unavailable`] when no random id can be drawn.
pub fn compose(
    mail: &OutgoingMail,
    from: &Sender,
    random: &dyn SecureRandom,
) -> Result<Message, MailError> {
    let to: Mailbox = mail
        .to
        .as_str()
        .parse()
        .map_err(|_| MailError::Rejected("recipient is not a valid mailbox".into()))?;
    let id: [u8; 16] = random_array(random)
        .map_err(|_| MailError::Unavailable("no randomness for Message-ID".into()))?;
    let builder = Message::builder()
        .from(from.0.clone())
        .to(to)
        .subject(mail.subject.as_str())
        .message_id(Some(format!("<{}@{}>", hex::encode(id), from.domain())));
    let text = part(ContentType::TEXT_PLAIN, &mail.text_body);
    let message = match &mail.html_body {
        Some(html) => builder.multipart(
            MultiPart::alternative()
                .singlepart(text)
                .singlepart(part(ContentType::TEXT_HTML, html)),
        ),
        None => builder.singlepart(text),
    };
    message.map_err(|e| MailError::Rejected(e.to_string()))
}

/// A body part. Plain ASCII with short lines is sent as 7bit, so links stay whole in the raw
/// message; anything else is quoted-printable.
fn part(content_type: ContentType, body: &str) -> SinglePart {
    let builder = SinglePart::builder().header(content_type);
    // RFC 5322/2045 7bit: ASCII without NUL or bare CR, lines of at most 998 octets. lettre's
    // own choice stops at 76 and would quote-print every long link.
    let seven_bit_safe =
        body.is_ascii() && !body.contains(['\0', '\r']) && body.lines().all(|l| l.len() <= 998);
    if seven_bit_safe {
        let crlf = body.replace('\n', "\r\n");
        builder.body(Body::dangerous_pre_encoded(
            crlf.into_bytes(),
            ContentTransferEncoding::SevenBit,
        ))
    } else {
        builder.body(body.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wildid_domain::email::Email;
    use wildid_domain::mail::MailSubject;
    use wildid_ports::builtin::OsRandom;

    #[test]
    fn composes_rfc5322_with_headers_and_both_parts() {
        let mail = OutgoingMail {
            to: Email::parse("ann@example.org").unwrap(),
            subject: MailSubject::new("Ihr Anmeldelink für WildID").unwrap(),
            text_body: "Open the link.".into(),
            html_body: Some("<p>Open the link.</p>".into()),
        };
        let from = Sender::parse("WildID <no-reply@wildid.example>").unwrap();
        let raw = String::from_utf8(compose(&mail, &from, &OsRandom).unwrap().formatted()).unwrap();
        assert!(raw.contains("To: ann@example.org\r\n"));
        assert!(raw.contains("From: WildID <no-reply@wildid.example>\r\n"));
        assert!(raw.contains("Message-ID: <") && raw.contains("@wildid.example>\r\n"));
        assert!(raw.contains("Date: "));
        assert!(
            raw.contains("Subject: Ihr Anmeldelink =?utf-8?b?"),
            "non-ASCII words are encoded: {raw}"
        );
        assert!(raw.contains("multipart/alternative"));
    }

    #[test]
    fn long_ascii_links_stay_whole() {
        let link = format!(
            "https://wildid.example/auth/verify?token={}",
            "A".repeat(43)
        );
        let mail = OutgoingMail {
            to: Email::parse("ann@example.org").unwrap(),
            subject: MailSubject::new("Link").unwrap(),
            text_body: format!("Open:\n\n{link}\n"),
            html_body: None,
        };
        let from = Sender::parse("no-reply@wildid.example").unwrap();
        let raw = String::from_utf8(compose(&mail, &from, &OsRandom).unwrap().formatted()).unwrap();
        assert!(raw.contains(&link), "{raw}");
        assert!(raw.contains("Content-Transfer-Encoding: 7bit"));
    }

    #[test]
    fn senders_are_validated() {
        assert!(Sender::parse("no-reply@example.org").is_ok());
        assert_eq!(
            Sender::parse("WildID <no-reply@example.org>\r\nBcc: x@y.z"),
            Err(InvalidSender)
        );
        assert_eq!(Sender::parse("not a mailbox"), Err(InvalidSender));
    }
}
