//! The malware scan (seed 004 item 22) with ClamAV: [`Clamd`] implements the
//! `MalwareScanner` port by sending the upload, exactly as received and before anything
//! decodes it, to a clamd daemon with its `INSTREAM` command, over TCP or a unix socket
//! (`WILDID_CLAMD`). Every call has a deadline; a daemon that cannot be reached, answers
//! late or answers anything but a verdict gives no verdict, and the caller refuses the upload
//! (fail closed).

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use wildid_ports::scan::{MalwareScanner, ScanUnavailable, ScanVerdict};

/// Bytes sent per `INSTREAM` chunk (clamd reads chunks of any size up to its
/// `StreamMaxLength`).
const CHUNK: usize = 64 * 1024;
/// Longest reply read from clamd.
const MAX_REPLY: usize = 4096;

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddress {
    /// `tcp://host:port`.
    Tcp(String),
    /// `unix:/path/to/clamd.sock` (or a plain absolute path).
    Unix(PathBuf),
}

impl ClamdAddress {
    /// Parses `tcp://host:port`, `unix:/path` or `/path`.
    ///
    /// # Errors
    /// A text saying what is expected.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(host_port) = raw.strip_prefix("tcp://") {
            let valid = host_port.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
            return if valid {
                Ok(Self::Tcp(host_port.to_owned()))
            } else {
                Err("expected tcp://HOST:PORT".to_owned())
            };
        }
        let path = raw.strip_prefix("unix:").unwrap_or(raw);
        if path.starts_with('/') {
            Ok(Self::Unix(PathBuf::from(path)))
        } else {
            Err("expected tcp://HOST:PORT, unix:/PATH or an absolute socket path".to_owned())
        }
    }
}

impl std::fmt::Display for ClamdAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tcp(host_port) => write!(f, "tcp://{host_port}"),
            Self::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// [`MalwareScanner`] over clamd's `INSTREAM`.
#[derive(Debug, Clone)]
pub struct Clamd {
    address: ClamdAddress,
    timeout: Duration,
}

impl Clamd {
    /// A scanner talking to `address`, each scan bounded by `timeout` (connect, send and
    /// verdict together).
    pub fn new(address: ClamdAddress, timeout: Duration) -> Self {
        Self { address, timeout }
    }

    async fn instream(&self, bytes: &[u8]) -> Result<ScanVerdict, ScanUnavailable> {
        match &self.address {
            ClamdAddress::Tcp(host_port) => {
                let stream = tokio::net::TcpStream::connect(host_port.as_str())
                    .await
                    .map_err(|e| unavailable(&format!("cannot connect: {e}")))?;
                exchange(stream, bytes).await
            }
            ClamdAddress::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(|e| unavailable(&format!("cannot connect: {e}")))?;
                exchange(stream, bytes).await
            }
        }
    }
}

fn unavailable(why: &str) -> ScanUnavailable {
    ScanUnavailable(format!("clamd: {why}"))
}

/// One `zINSTREAM` exchange: the command, the bytes in length-prefixed chunks, a zero-length
/// chunk, then clamd's NUL-terminated verdict.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    bytes: &[u8],
) -> Result<ScanVerdict, ScanUnavailable> {
    let io = |e: std::io::Error| unavailable(&e.to_string());
    stream.write_all(b"zINSTREAM\0").await.map_err(io)?;
    for chunk in bytes.chunks(CHUNK) {
        let len = u32::try_from(chunk.len()).map_err(|_| unavailable("chunk too large"))?;
        stream.write_all(&len.to_be_bytes()).await.map_err(io)?;
        stream.write_all(chunk).await.map_err(io)?;
    }
    stream.write_all(&0u32.to_be_bytes()).await.map_err(io)?;
    stream.flush().await.map_err(io)?;
    let mut reply = Vec::new();
    let mut buffer = [0u8; 512];
    loop {
        let n = stream.read(&mut buffer).await.map_err(io)?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buffer[..n]);
        if reply.contains(&0) || reply.len() > MAX_REPLY {
            break;
        }
    }
    verdict(&reply)
}

/// Reads clamd's answer: `stream: OK`, `stream: NAME FOUND`, or an error.
fn verdict(reply: &[u8]) -> Result<ScanVerdict, ScanUnavailable> {
    let end = reply
        .iter()
        .position(|&b| b == 0 || b == b'\n')
        .unwrap_or(reply.len());
    let text =
        std::str::from_utf8(&reply[..end]).map_err(|_| unavailable("a reply that is not text"))?;
    let body = text.strip_prefix("stream: ").unwrap_or(text);
    if body == "OK" {
        return Ok(ScanVerdict::Clean);
    }
    if let Some(name) = body.strip_suffix(" FOUND") {
        let name: String = name
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .take(200)
            .collect();
        return Ok(ScanVerdict::Infected(name));
    }
    // "INSTREAM size limit exceeded. ERROR" and the like: no verdict.
    let shown: String = body
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(200)
        .collect();
    Err(unavailable(&format!("no verdict: {shown}")))
}

#[async_trait]
impl MalwareScanner for Clamd {
    async fn scan(&self, bytes: &[u8]) -> Result<ScanVerdict, ScanUnavailable> {
        tokio::time::timeout(self.timeout, self.instream(bytes))
            .await
            .unwrap_or_else(|_| Err(unavailable("no verdict in time")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_parsed_strictly() {
        assert_eq!(
            ClamdAddress::parse("tcp://127.0.0.1:3310").unwrap(),
            ClamdAddress::Tcp("127.0.0.1:3310".into())
        );
        assert_eq!(
            ClamdAddress::parse("unix:/run/clamav/clamd.ctl").unwrap(),
            ClamdAddress::Unix("/run/clamav/clamd.ctl".into())
        );
        assert_eq!(
            ClamdAddress::parse("/run/clamd.sock").unwrap(),
            ClamdAddress::Unix("/run/clamd.sock".into())
        );
        for bad in [
            "tcp://host",
            "tcp://:3310",
            "tcp://h:0",
            "tcp://h:99999",
            "clamd.sock",
            "http://h:1",
            "",
        ] {
            assert!(ClamdAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn replies_become_verdicts_or_no_verdict() {
        assert_eq!(verdict(b"stream: OK\0").unwrap(), ScanVerdict::Clean);
        assert_eq!(
            verdict(b"stream: Win.Test.EICAR_HDB-1 FOUND\0").unwrap(),
            ScanVerdict::Infected("Win.Test.EICAR_HDB-1".into())
        );
        for bad in [
            &b"INSTREAM size limit exceeded. ERROR\0"[..],
            b"",
            b"\xff\xfe",
            b"stream: something else\0",
        ] {
            assert!(verdict(bad).is_err(), "{bad:?}");
        }
    }
}
