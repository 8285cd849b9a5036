//! A test client that behaves like one browser: constant fingerprint headers, one cookie jar
//! (kept by hand, so `Secure` cookies work over plain http on loopback as they do in browsers),
//! and the CSRF token of its session.

use std::collections::BTreeMap;
use std::path::Path;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

/// The languages every test browser asks for.
const ACCEPT_LANGUAGE: &str = "en-GB,en;q=0.8";

/// One simulated browser.
pub struct Client {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
    user_agent: String,
    /// The CSRF token last learned from the server.
    pub csrf: Option<String>,
}

/// A response, read fully.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body text.
    pub body: String,
    /// Body bytes, as received.
    pub bytes: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.body))
    }

    /// The `error` code of a JSON error body.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A reqwest client builder for the tests. The workspace builds reqwest with
/// `rustls-no-provider` (the identification adapter brings its own TLS configuration), so a
/// plain client needs a process-wide crypto provider: ring, installed once here.
pub fn http_builder() -> reqwest::ClientBuilder {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
}

impl Client {
    /// A browser talking to `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> Self {
        Self::with_user_agent(base, "Mozilla/5.0 (X11; Linux x86_64) WildIDTest/1.0")
    }

    /// A browser with a particular `User-Agent`.
    pub fn with_user_agent(base: &str, user_agent: &str) -> Self {
        let http = http_builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
            cookies: BTreeMap::new(),
            user_agent: user_agent.to_owned(),
            csrf: None,
        }
    }

    /// The same cookies, but another browser (different fingerprint).
    pub fn as_other_browser(&self, user_agent: &str) -> Self {
        let mut other = Self::with_user_agent(&self.base, user_agent);
        other.cookies = self.cookies.clone();
        other.csrf = self.csrf.clone();
        other
    }

    /// The same browser (cookies, fingerprint, anti-forgery token) talking to another server
    /// at `base`: the next request of a person whose load balancer chose another process.
    pub fn pointed_at(&self, base: &str) -> Self {
        let mut other = self.as_other_browser(&self.user_agent);
        other.base = base.trim_end_matches('/').to_owned();
        other
    }

    /// The same browser (cookies and fingerprint) with a connection pool of its own, for use
    /// on another runtime: a pool's connections are driven by the runtime that opened them.
    pub fn with_own_connections(&self) -> Self {
        let user_agent = self.user_agent.clone();
        self.as_other_browser(&user_agent)
    }

    /// The current session cookie value, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.cookies
            .iter()
            .find(|(k, _)| k.ends_with("wildid-session"))
            .map(|(_, v)| v.clone())
    }

    /// The server this browser talks to (`http://ADDR`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The `Cookie` header this browser sends (every cookie it holds).
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The headers the session's fingerprint is taken from, as this browser sends them: another
    /// client must send the same to use its session.
    pub fn fingerprint_headers(&self) -> [(&'static str, String); 3] {
        [
            ("User-Agent", self.user_agent.clone()),
            ("Accept-Language", ACCEPT_LANGUAGE.to_owned()),
            ("Accept-Encoding", "identity".to_owned()),
        ]
    }

    /// Replaces the session cookie (to replay an old one).
    pub fn set_session_cookie(&mut self, value: &str) {
        self.cookies
            .insert("__Host-wildid-session".into(), value.to_owned());
    }

    /// The header lines this browser sends with every request (identity and cookies), for
    /// hand-written requests.
    pub fn raw_headers(&self) -> String {
        self.headers(&[])
            .iter()
            .map(|(k, v)| format!("{k}: {}\r\n", v.to_str().unwrap()))
            .collect()
    }

    fn headers(&self, extra: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "user-agent",
            HeaderValue::from_str(&self.user_agent).unwrap(),
        );
        h.insert("accept-language", HeaderValue::from_static(ACCEPT_LANGUAGE));
        h.insert("accept-encoding", HeaderValue::from_static("identity"));
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            h.insert("cookie", HeaderValue::from_str(&cookie).unwrap());
        }
        for (k, v) in extra {
            h.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn absorb(&mut self, headers: &HeaderMap) {
        let before = self.session_cookie();
        self.absorb_cookies(headers);
        if self.session_cookie() != before {
            // The token belongs to the session: a new or ended session makes it useless.
            self.csrf = None;
        }
    }

    fn absorb_cookies(&mut self, headers: &HeaderMap) {
        for value in headers.get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let expired = text.contains("Max-Age=0");
            if expired || value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// Sends a request and reads the answer.
    pub async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .headers(self.headers(extra));
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        self.absorb(&headers);
        let bytes = response.bytes().await.unwrap().to_vec();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    /// GET.
    pub async fn get(&mut self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, &[], None).await
    }

    /// DELETE with the session's CSRF token (fetched first when unknown).
    pub async fn delete(&mut self, path: &str) -> Answer {
        let token = self.csrf_token().await;
        self.send(
            reqwest::Method::DELETE,
            path,
            &[("x-csrf-token", &token)],
            None,
        )
        .await
    }

    /// Learns (or refreshes) the CSRF token from `/api/security/status`.
    pub async fn refresh_csrf(&mut self) -> String {
        let status = self.get("/api/security/status").await;
        let token = status.json()["csrf_token"].as_str().unwrap().to_owned();
        self.csrf = Some(token.clone());
        token
    }

    /// POSTs JSON with the session's CSRF token (fetched first when unknown).
    pub async fn post_json(&mut self, path: &str, body: &Value) -> Answer {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    /// PUTs JSON with the session's CSRF token (fetched first when unknown).
    pub async fn put_json(&mut self, path: &str, body: &Value) -> Answer {
        self.send_json(reqwest::Method::PUT, path, body).await
    }

    /// Sends JSON with the session's CSRF token (fetched first when unknown), and learns the
    /// new token when the answer carries one.
    async fn send_json(&mut self, method: reqwest::Method, path: &str, body: &Value) -> Answer {
        let token = self.csrf_token().await;
        let answer = self
            .send(
                method,
                path,
                &[
                    ("content-type", "application/json"),
                    ("x-csrf-token", &token),
                ],
                Some(serde_json::to_vec(body).unwrap()),
            )
            .await;
        if let Some(new) = answer
            .body
            .contains("csrf_token")
            .then(|| serde_json::from_str::<Value>(&answer.body).ok())
            .flatten()
            && let Some(t) = new["csrf_token"].as_str()
        {
            self.csrf = Some(t.to_owned());
        }
        answer
    }

    /// The session's anti-forgery token, fetched once.
    async fn csrf_token(&mut self) -> String {
        match &self.csrf {
            Some(t) => t.clone(),
            None => self.refresh_csrf().await,
        }
    }

    /// POST of `multipart/form-data` with these fields (name, file bytes), with the token
    /// in `X-CSRF-Token`.
    pub async fn post_multipart(&mut self, path: &str, fields: &[(&str, &[u8])]) -> Answer {
        let token = self.csrf_token().await;
        let (content_type, body) = multipart_body(None, fields);
        self.send(
            reqwest::Method::POST,
            path,
            &[("content-type", &content_type), ("x-csrf-token", &token)],
            Some(body),
        )
        .await
    }

    /// POST of `multipart/form-data` as an upload form of a page sends it: the token is the
    /// first field, `csrf_token`, and no header carries it.
    pub async fn post_upload_form(&mut self, path: &str, fields: &[(&str, &[u8])]) -> Answer {
        let token = self.csrf_token().await;
        let (content_type, body) = multipart_body(Some(&token), fields);
        self.send(
            reqwest::Method::POST,
            path,
            &[("content-type", &content_type)],
            Some(body),
        )
        .await
    }

    /// POSTs an HTML form (the CSRF token goes in as a field, as a page would send it).
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let token = self.csrf_token().await;
        let mut form = reqwest::Url::parse("http://x/").unwrap();
        {
            let mut pairs = form.query_pairs_mut();
            pairs.append_pair("csrf_token", &token);
            for (k, v) in fields {
                pairs.append_pair(k, v);
            }
        }
        let body = form.query().unwrap_or_default().as_bytes().to_vec();
        self.send(
            reqwest::Method::POST,
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(body),
        )
        .await
    }
}

/// A `multipart/form-data` body (its content type, its bytes): the token field first when
/// given, then each field as a file.
pub fn multipart_body(token: Option<&str>, fields: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "wildid-test-boundary-7Hq2";
    let mut body = Vec::new();
    if let Some(token) = token {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n\
                 {token}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, bytes) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// The messages in a server's outbox, oldest first (raw RFC 5322 text).
pub fn outbox(data_dir: &Path) -> Vec<String> {
    let dir = data_dir.join("outbox");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Waits (up to 10 s) for the outbox to hold at least `count` messages; returns them.
pub async fn wait_for_mail(data_dir: &Path, count: usize) -> Vec<String> {
    for _ in 0..200 {
        let mails = outbox(data_dir);
        if mails.len() >= count {
            return mails;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "expected {count} messages in the outbox, found {}",
        outbox(data_dir).len()
    );
}

/// The part of a page under its heading `<h2 id="ID">`, up to the next `<h2` (an admin
/// console card, say).
///
/// # Panics
/// When the page has no such heading.
pub fn section<'a>(html: &'a str, id: &str) -> &'a str {
    html.split(&format!("<h2 id=\"{id}\">"))
        .nth(1)
        .and_then(|rest| rest.split("<h2").next())
        .unwrap_or_else(|| panic!("no <h2 id=\"{id}\"> in the page: {html}"))
}

/// The first link in a message that contains `path` (`/auth/verify`), and its token.
pub fn link_in(mail: &str, path: &str) -> (String, String) {
    let start = mail
        .find("http")
        .unwrap_or_else(|| panic!("no link in {mail}"));
    let link: String = mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert!(link.contains(path), "{link} does not go to {path}");
    let token = link.split("token=").nth(1).unwrap_or_default().to_owned();
    (link, token)
}
