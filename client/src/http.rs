//! The HTTP plumbing of every ecert client: one agent configuration (timeouts, no
//! redirects, a user agent, statuses as answers rather than errors), bounded reads (the
//! limit is chosen per call; error answers are never read beyond [`MAX_ERROR_BYTES`]),
//! the JSON error body of both APIs (`{"error": code, "message": text}`, [`ErrorBody`])
//! and a typed error, [`HttpError`], that tells the tools what to say and which exit code
//! to use: the server could not be reached (a failed TLS handshake included, told apart
//! by [`Unreachable::Tls`]), its answer was not usable, or it answered with a status the
//! caller did not expect.
//!
//! HTTPS uses rustls with the policy of [`crate::tls::Transport`]; every request is checked
//! against it first (plain HTTP only to loopback unless allowed).

use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

use crate::tls::{TlsProblem, Transport};
use crate::url::ServerUrl;

/// Largest error answer read (a JSON code and message).
pub const MAX_ERROR_BYTES: u64 = 64 * 1024;
/// Largest answer [`Http::get`] and [`Http::post_cbor`] read (the largest trust bundle).
pub const DEFAULT_LIMIT: u64 = ecert_schemas::ledger::MAX_TRUST_BUNDLE_BYTES as u64;
/// How long to wait for a connection, at most (less if the whole exchange must be faster).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The user agent when none is named.
const USER_AGENT: &str = concat!("ecert-client/", env!("CARGO_PKG_VERSION"));
/// Longest text kept from a server's error answer.
const MAX_TEXT_CHARS: usize = 300;

/// Why a server could not be reached.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Unreachable {
    /// No answer (or not all of it) in time.
    #[error("no answer in time")]
    Timeout,
    /// The server's name was not found.
    #[error("the server name was not found")]
    HostNotFound,
    /// The connection failed or broke.
    #[error("{0}")]
    Connect(String),
    /// The secure (TLS) connection could not be made: the server's certificate is not
    /// trusted, not for this name, expired, or the server does not speak TLS.
    #[error("{0}")]
    Tls(TlsProblem),
}

/// Why an answer is not usable.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BadAnswer {
    /// Larger than the limit of the call.
    #[error("the answer is larger than expected (more than {limit} bytes)")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Not well-formed HTTP.
    #[error("not a well-formed HTTP answer ({0})")]
    Protocol(String),
    /// Well-formed HTTP, but the body is not what it should be.
    #[error("unreadable ({0})")]
    Content(String),
}

/// The JSON error body of both APIs, `{"error": code, "message": text}`, as far as it
/// could be read: control characters removed, at most 300 characters each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// The stable code (`unknown-offer`, `no-quorum`, ...).
    pub code: Option<String>,
    /// The message in plain words.
    pub message: Option<String>,
}

impl ErrorBody {
    /// Reads an error body; anything that is not a JSON object gives an empty one.
    pub fn parse(body: &[u8]) -> ErrorBody {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
            return ErrorBody::default();
        };
        let text = |key: &str| {
            map.get(key)
                .and_then(Value::as_str)
                .map(clean)
                .filter(|t| !t.is_empty())
        };
        ErrorBody {
            code: text("error"),
            message: text("message"),
        }
    }

    /// The message, or else the code: what the server said, if anything.
    pub fn text(&self) -> Option<&str> {
        self.message.as_deref().or(self.code.as_deref())
    }
}

/// Keeps a server's text printable and short.
pub fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT_CHARS)
        .collect()
}

/// Why an exchange failed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum HttpError {
    /// The URL cannot be used (only for addresses not checked by [`crate::ServerUrl`]).
    #[error("{url} is not a usable address ({detail})")]
    InvalidUrl {
        /// The URL asked.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The server could not be reached: connection refused or broken, name not found, no
    /// answer in time.
    #[error("cannot reach {url}: {cause}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// Why.
        cause: Unreachable,
    },
    /// The server answered, but not usably.
    #[error("the answer of {url} is not usable: {cause}")]
    BadAnswer {
        /// The URL asked.
        url: String,
        /// Why.
        cause: BadAnswer,
    },
    /// The server answered with a status the caller did not expect.
    #[error("{url} answered with an unexpected status {status}{}", said(error))]
    Status {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The error body, as far as it could be read.
        error: ErrorBody,
    },
}

/// ": text" when the server said something.
fn said(error: &ErrorBody) -> String {
    error.text().map(|t| format!(": {t}")).unwrap_or_default()
}

impl HttpError {
    /// The URL asked.
    pub fn url(&self) -> &str {
        match self {
            HttpError::InvalidUrl { url, .. }
            | HttpError::Unreachable { url, .. }
            | HttpError::BadAnswer { url, .. }
            | HttpError::Status { url, .. } => url,
        }
    }

    /// The server's address (`https://HOST[:PORT]`) of the URL asked.
    pub fn server(&self) -> &str {
        server_of(self.url())
    }

    /// The answer of `url` did not have the expected status.
    pub fn unexpected(url: &str, reply: &Reply) -> HttpError {
        HttpError::Status {
            url: url.to_owned(),
            status: reply.status,
            error: reply.error_body(),
        }
    }

    /// The body of `url`'s answer is not the structure it should be.
    pub fn content(url: &str, detail: impl std::fmt::Display) -> HttpError {
        HttpError::BadAnswer {
            url: url.to_owned(),
            cause: BadAnswer::Content(detail.to_string()),
        }
    }

    /// From a transport error of ureq, for `url`.
    fn from_ureq(url: &str, error: ureq::Error, limit: u64) -> HttpError {
        let url = url.to_owned();
        let unreachable = |cause| HttpError::Unreachable {
            url: url.clone(),
            cause,
        };
        let bad = |cause| HttpError::BadAnswer {
            url: url.clone(),
            cause,
        };
        match error {
            ureq::Error::Timeout(_) => unreachable(Unreachable::Timeout),
            ureq::Error::HostNotFound => unreachable(Unreachable::HostNotFound),
            ureq::Error::Io(ref io) if TlsProblem::of_io(io).is_some() => {
                let problem =
                    TlsProblem::of_io(io).unwrap_or_else(|| TlsProblem::Other(io.to_string()));
                unreachable(Unreachable::Tls(problem))
            }
            ureq::Error::Rustls(ref e) => unreachable(Unreachable::Tls(TlsProblem::of_rustls(e))),
            ureq::Error::Tls(detail) => {
                unreachable(Unreachable::Tls(TlsProblem::Other(detail.to_owned())))
            }
            ureq::Error::ConnectionFailed | ureq::Error::Io(_) | ureq::Error::BodyStalled => {
                unreachable(Unreachable::Connect(error.to_string()))
            }
            ureq::Error::BadUri(detail) => HttpError::InvalidUrl {
                url: url.clone(),
                detail,
            },
            ureq::Error::BodyExceedsLimit(_) => bad(BadAnswer::TooLarge { limit }),
            other => bad(BadAnswer::Protocol(other.to_string())),
        }
    }
}

/// `https://HOST[:PORT]` or `http://HOST[:PORT]` of a URL (the URL itself if it has no
/// path).
pub fn server_of(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    match url.get(start..).and_then(|rest| rest.find(['/', '?', '#'])) {
        Some(end) => url.get(..start + end).unwrap_or(url),
        None => url,
    }
}

/// A server's answer: its status and its body (within the limit of the call).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The error body (empty if the body is not one).
    pub fn error_body(&self) -> ErrorBody {
        ErrorBody::parse(&self.body)
    }

    /// The `error` code of a JSON error body.
    pub fn error_code(&self) -> Option<String> {
        self.error_body().code
    }
}

/// A blocking HTTP client: one configuration for every request.
#[derive(Clone, Debug)]
pub struct Http {
    agent: ureq::Agent,
    transport: Transport,
}

impl Http {
    /// A client whose exchanges fail after `timeout` in all (connecting after at most
    /// [`CONNECT_TIMEOUT`]), with the default [`Transport`] (web PKI roots, plain HTTP only
    /// to loopback).
    pub fn new(timeout: Duration) -> Http {
        Http::named(USER_AGENT, timeout)
    }

    /// As [`Http::new`], telling servers it is `user_agent` (`ecert-wallet/0.1.0`).
    pub fn named(user_agent: &str, timeout: Duration) -> Http {
        Http::with_transport(user_agent, timeout, &Transport::default())
    }

    /// As [`Http::named`], with the connection policy `transport` (`--ca`,
    /// `--insecure-http`).
    pub fn with_transport(user_agent: &str, timeout: Duration, transport: &Transport) -> Http {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(CONNECT_TIMEOUT.min(timeout)))
            .timeout_global(Some(timeout))
            .user_agent(user_agent)
            .tls_config(transport.tls_config())
            .build();
        Http {
            agent: ureq::Agent::new_with_config(config),
            transport: transport.clone(),
        }
    }

    /// The connection policy.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Refuses a URL the policy does not allow (plain HTTP to another computer).
    fn allowed(&self, url: &str) -> Result<(), HttpError> {
        self.transport
            .check(&ServerUrl::unchecked(server_of(url)))
            .map_err(|e| HttpError::InvalidUrl {
                url: url.to_owned(),
                detail: e.problem.to_string(),
            })
    }

    /// `GET url`, reading at most [`DEFAULT_LIMIT`] bytes. Any status is an answer.
    pub fn get(&self, url: &str) -> Result<Reply, HttpError> {
        self.get_limited(url, DEFAULT_LIMIT)
    }

    /// `GET url`, reading a 2xx body up to `limit` bytes (more is
    /// [`BadAnswer::TooLarge`]) and any other up to [`MAX_ERROR_BYTES`].
    pub fn get_limited(&self, url: &str, limit: u64) -> Result<Reply, HttpError> {
        self.allowed(url)?;
        let response = self
            .agent
            .get(url)
            .header("accept", "application/cbor, application/json")
            .call();
        read(url, response, limit)
    }

    /// `POST url` with a CBOR body, reading at most [`DEFAULT_LIMIT`] bytes.
    pub fn post_cbor(&self, url: &str, body: &[u8]) -> Result<Reply, HttpError> {
        self.post_cbor_limited(url, body, DEFAULT_LIMIT)
    }

    /// `POST url` with a CBOR body; the answer is read as by [`Http::get_limited`].
    pub fn post_cbor_limited(
        &self,
        url: &str,
        body: &[u8],
        limit: u64,
    ) -> Result<Reply, HttpError> {
        self.allowed(url)?;
        let response = self
            .agent
            .post(url)
            .header("content-type", "application/cbor")
            .header("accept", "application/cbor, application/json")
            .send(body);
        read(url, response, limit)
    }
}

fn read(
    url: &str,
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    limit: u64,
) -> Result<Reply, HttpError> {
    let mut response = response.map_err(|e| HttpError::from_ureq(url, e, limit))?;
    let status = response.status().as_u16();
    // Error answers are small; a success may be as large as the call allows.
    let limit = if (200..300).contains(&status) {
        limit
    } else {
        limit.min(MAX_ERROR_BYTES)
    };
    let body = response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| HttpError::from_ureq(url, e, limit))?;
    Ok(Reply { status, body })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// The requests a fake server saw: request line and body.
    pub type Seen = std::thread::JoinHandle<Vec<(String, Vec<u8>)>>;

    /// A one-connection-per-answer HTTP server answering `answers` (status, content type,
    /// body) in order; returns its base URL and a handle yielding the requests it saw.
    pub fn fake_server(answers: Vec<(u16, &'static str, Vec<u8>)>) -> (String, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for (status, ctype, body) in answers {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let mut length = 0usize;
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    if h == "\r\n" || h.is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut req_body = vec![0; length];
                reader.read_exact(&mut req_body).unwrap();
                seen.push((line.trim().to_owned(), req_body));
                let mut stream = reader.into_inner();
                write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                )
                .unwrap();
                stream.write_all(&body).unwrap();
            }
            seen
        });
        (base, handle)
    }

    /// An address where nothing listens.
    pub fn dead_address() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        base
    }

    #[test]
    fn error_bodies() {
        let e = ErrorBody::parse(
            br#"{"error":"offer-used","message":"This offer was already\ncollected."}"#,
        );
        assert_eq!(e.code.as_deref(), Some("offer-used"));
        assert_eq!(e.text(), Some("This offer was alreadycollected."));
        let code_only = ErrorBody::parse(br#"{"error":"no-quorum"}"#);
        assert_eq!(code_only.text(), Some("no-quorum"));
        assert_eq!(ErrorBody::parse(b"<html>"), ErrorBody::default());
        assert_eq!(ErrorBody::parse(b"<html>").text(), None);
        let long = format!(r#"{{"message":"{}"}}"#, "x".repeat(1000));
        assert_eq!(ErrorBody::parse(long.as_bytes()).text().unwrap().len(), 300);
    }

    #[test]
    fn servers_of_urls() {
        assert_eq!(server_of("http://h:1/v1/export"), "http://h:1");
        assert_eq!(server_of("http://h:1?x"), "http://h:1");
        assert_eq!(server_of("http://h:1"), "http://h:1");
    }

    #[test]
    fn answers_are_bounded_and_errors_typed() {
        let (base, server) = fake_server(vec![
            (200, "application/cbor", vec![7; 100]),
            (200, "application/cbor", vec![7; 101]),
            (
                503,
                "application/json",
                br#"{"error":"no-quorum","message":"try later"}"#.to_vec(),
            ),
            (500, "text/plain", vec![b'x'; 100_000]),
        ]);
        let http = Http::new(Duration::from_secs(10));
        let url = format!("{base}/v1/export");
        assert_eq!(http.get_limited(&url, 100).unwrap().body.len(), 100);
        assert_eq!(
            http.get_limited(&url, 100).unwrap_err(),
            HttpError::BadAnswer {
                url: url.clone(),
                cause: BadAnswer::TooLarge { limit: 100 }
            }
        );
        let reply = http.post_cbor(&url, b"x").unwrap();
        assert!(!reply.ok());
        assert_eq!(reply.error_code().as_deref(), Some("no-quorum"));
        let e = HttpError::unexpected(&url, &reply);
        assert_eq!(e.server(), base);
        assert!(
            e.to_string().contains("unexpected status 503: try later"),
            "{e}"
        );
        // An error answer is never read beyond 64 KiB.
        assert!(matches!(
            http.get(&url),
            Err(HttpError::BadAnswer {
                cause: BadAnswer::TooLarge {
                    limit: MAX_ERROR_BYTES
                },
                ..
            })
        ));
        let seen = server.join().unwrap();
        assert_eq!(seen[2].0, "POST /v1/export HTTP/1.1");
        assert_eq!(seen[2].1, b"x");

        let dead = dead_address();
        assert!(matches!(
            http.get(&dead),
            Err(HttpError::Unreachable {
                cause: Unreachable::Connect(_),
                ..
            })
        ));
    }

    #[test]
    fn plain_http_to_another_computer_is_refused_before_connecting() {
        // 192.0.2.0/24 is reserved for documentation: nothing is sent there, the request
        // is refused first.
        let http = Http::new(Duration::from_secs(2));
        let url = "http://192.0.2.1:7300/v1/export";
        let e = http.get(url).unwrap_err();
        assert!(
            matches!(&e, HttpError::InvalidUrl { detail, .. } if detail.contains("--insecure-http")),
            "{e}"
        );
        assert!(http.post_cbor(url, b"x").is_err());
        assert!(!http.transport().insecure_http());
    }

    #[test]
    fn a_mute_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let holder = std::thread::spawn(move || {
            let held = listener.accept();
            std::thread::sleep(Duration::from_secs(3));
            drop(held);
        });
        let http = Http::new(Duration::from_millis(500));
        assert!(matches!(
            http.get(&base),
            Err(HttpError::Unreachable {
                cause: Unreachable::Timeout,
                ..
            })
        ));
        holder.join().unwrap();
    }
}
