//! Talking to a department's server or a ledger node over plain HTTP (`docs/api.md`):
//! addresses, timeouts, bounded answers, and errors in plain words with their exit codes.
//!
//! Nothing received is trusted because of where it came from: packages are checked like
//! files, ledger answers against the trust anchor.

use std::time::Duration;

use serde_json::Value;

use crate::exit::{self, Failure};

/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one whole exchange may take.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest error answer read (JSON with a code and a message).
const MAX_ERROR_BYTES: u64 = 64 * 1024;

/// A server's address: `http://HOST[:PORT]`, without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    base: String,
}

impl Server {
    /// Reads `http://HOST[:PORT]` (a trailing `/` is allowed). `what` names the option
    /// for messages ("--node").
    pub fn parse(text: &str, what: &str) -> Result<Server, Failure> {
        let text = text.trim();
        let bad = |why: &str| {
            Failure::new(
                exit::ERROR,
                format!("{what} {text:?}: {why}; give it as http://HOST:PORT (for example http://192.168.1.20:8080)"),
            )
        };
        if text.len() >= 8
            && text
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        {
            return Err(bad(
                "secure (https) addresses are not supported by this version, only http",
            ));
        }
        let Some(rest) = text
            .get(..7)
            .filter(|s| s.eq_ignore_ascii_case("http://"))
            .and_then(|_| text.get(7..))
        else {
            return Err(bad("it must start with http://"));
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if host.is_empty() {
            return Err(bad("the address has no host"));
        }
        if host.contains(['/', '?', '#', '@', ' ']) {
            return Err(bad("only the host and port may follow http://"));
        }
        Ok(Server {
            base: format!("http://{host}"),
        })
    }

    /// The address, `http://HOST[:PORT]`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A server's answer: its status and its body (at most the limit asked for).
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The stable code and the message of an error answer
    /// (`{"error": "...", "message": "..."}`), if it is one.
    pub fn error(&self) -> (Option<String>, Option<String>) {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&self.body) else {
            return (None, None);
        };
        let text = |key: &str| map.get(key).and_then(Value::as_str).map(clean);
        (text("error"), text("message"))
    }

    /// " The server said: ..." for messages, or nothing.
    pub fn said(&self) -> String {
        match self.error() {
            (_, Some(message)) => format!(" The server said: {message}"),
            (Some(code), None) => format!(" The server said: {code}"),
            (None, None) => String::new(),
        }
    }

    /// A failure for an answer the command did not expect.
    pub fn unexpected(&self, server: &Server) -> Failure {
        Failure::new(
            exit::BAD_ANSWER,
            format!(
                "{} answered with an unexpected status {}.{} Check the address, or try \
                 again later",
                server.base(),
                self.status,
                self.said()
            ),
        )
    }
}

/// Keeps a server's text printable and short.
fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(300).collect()
}

fn agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_global(Some(TOTAL_TIMEOUT))
        .user_agent(concat!("ecert-wallet/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::new_with_config(config)
}

/// `GET server path`; the body is read up to `limit` bytes (more is an error).
pub fn get(server: &Server, path: &str, limit: u64) -> Result<Answer, Failure> {
    let url = server.url(path);
    let response = agent()
        .get(&url)
        .header("accept", "application/cbor")
        .call();
    read(server, response, limit)
}

/// `POST server path` with a CBOR body; the answer is read up to `limit` bytes.
pub fn post_cbor(server: &Server, path: &str, body: &[u8], limit: u64) -> Result<Answer, Failure> {
    let url = server.url(path);
    let response = agent()
        .post(&url)
        .header("content-type", "application/cbor")
        .header("accept", "application/cbor")
        .send(body);
    read(server, response, limit)
}

fn read(
    server: &Server,
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    limit: u64,
) -> Result<Answer, Failure> {
    let mut response = response.map_err(|e| failed(server, &e))?;
    let status = response.status().as_u16();
    // Error answers are small; a success may be as large as the command allows.
    let limit = if status == 200 {
        limit
    } else {
        limit.min(MAX_ERROR_BYTES)
    };
    let body = response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => Failure::new(
                exit::BAD_ANSWER,
                format!(
                    "{}'s answer is larger than expected (more than {limit} bytes); nothing \
                     was changed",
                    server.base()
                ),
            ),
            other => failed(server, &other),
        })?;
    Ok(Answer { status, body })
}

/// A failed exchange, in plain words, with its exit code.
fn failed(server: &Server, error: &ureq::Error) -> Failure {
    let base = server.base();
    let (code, what) = match error {
        ureq::Error::Timeout(_) => (exit::UNREACHABLE, format!("{base} did not answer in time")),
        ureq::Error::HostNotFound => (
            exit::UNREACHABLE,
            format!("the server name in {base} was not found (check the address and the network)"),
        ),
        ureq::Error::ConnectionFailed | ureq::Error::Io(_) => (
            exit::UNREACHABLE,
            format!(
                "cannot connect to {base} ({error}); check the address, the network, and \
                 that the server is running"
            ),
        ),
        ureq::Error::BadUri(_) => (
            exit::ERROR,
            format!("{base} is not a usable address ({error})"),
        ),
        other => (
            exit::BAD_ANSWER,
            format!("{base} did not answer as expected ({other})"),
        ),
    };
    Failure::new(code, format!("{what}; nothing was changed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        let s = Server::parse("http://192.168.1.20:8080/", "--node").unwrap();
        assert_eq!(s.base(), "http://192.168.1.20:8080");
        assert_eq!(
            s.url("/v1/revocations"),
            "http://192.168.1.20:8080/v1/revocations"
        );
        assert_eq!(
            Server::parse(" HTTP://node.example:80 ", "--node")
                .unwrap()
                .base(),
            "http://node.example:80"
        );
        for bad in [
            "",
            "node:8080",
            "https://node:8080",
            "http://",
            "http:///",
            "http://node:8080/v1",
            "http://user@node",
            "ftp://node",
        ] {
            let e = Server::parse(bad, "--node").unwrap_err();
            assert_eq!(e.code, exit::ERROR, "{bad}");
            assert!(e.message.contains("http://HOST:PORT"), "{}", e.message);
        }
    }

    #[test]
    fn error_answers() {
        let answer = Answer {
            status: 410,
            body: br#"{"error":"offer-used","message":"This offer was already\ncollected."}"#
                .to_vec(),
        };
        assert_eq!(
            answer.error(),
            (
                Some("offer-used".into()),
                Some("This offer was alreadycollected.".into())
            )
        );
        assert!(answer.said().contains("already"));
        let junk = Answer {
            status: 500,
            body: b"<html>".to_vec(),
        };
        assert_eq!(junk.error(), (None, None));
        assert_eq!(junk.said(), "");
    }
}
