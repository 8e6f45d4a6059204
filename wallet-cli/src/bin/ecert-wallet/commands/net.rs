//! The wallet's side of `ecert-client`: its HTTP agent, server addresses from the command
//! line, and client errors in plain words with the wallet's exit codes ([`failure`]).
//!
//! Nothing received is trusted because of where it came from: packages are checked like
//! files, ledger answers against the trust anchor.

use std::time::Duration;

use ecert_client::http::{BadAnswer, ErrorBody, Http, Unreachable};
use ecert_client::{NodeError, ServerUrl, Transport, TransportArgs};

use crate::exit::{self, Failure};

/// How long one whole exchange may take.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(60);

/// The connection policy of `--ca` and `--insecure-http`; a CA file that cannot be used
/// is an error on this computer (exit code 1).
pub fn transport(flags: &TransportArgs) -> Result<Transport, Failure> {
    flags
        .transport()
        .map_err(|e| Failure::new(exit::ERROR, e.to_string()))
}

/// The wallet's HTTP agent, with the connection policy `net`.
pub fn http(net: &Transport) -> Http {
    Http::with_transport(
        concat!("ecert-wallet/", env!("CARGO_PKG_VERSION")),
        TOTAL_TIMEOUT,
        net,
    )
}

/// Reads a server address given with the option `what` (`--node`) and checks it against
/// the connection policy (plain HTTP only to this computer unless `--insecure-http`).
pub fn server(net: &Transport, text: &str, what: &str) -> Result<ServerUrl, Failure> {
    net.server(text)
        .map_err(|e| Failure::new(exit::ERROR, format!("{what} {e}")))
}

/// " The server said: ..." for messages, or nothing.
pub fn said(error: Option<&ErrorBody>) -> String {
    error
        .and_then(ErrorBody::text)
        .map(|text| format!(" The server said: {text}"))
        .unwrap_or_default()
}

/// A failed exchange with `server`, in plain words, with its exit code: unreachable
/// (3), an answer that is unusable, unexpected or fails its check (4), or a problem on
/// this computer (1). Offer refusals have their own codes (`receive`).
pub fn failure(server: &ServerUrl, error: &NodeError) -> Failure {
    let base = server.base();
    if let Some(status) = error.status() {
        return Failure::new(
            exit::BAD_ANSWER,
            format!(
                "{base} answered with an unexpected status {status}.{} Check the address, or \
                 try again later",
                said(error.error_body())
            ),
        );
    }
    let (code, what) = match error {
        NodeError::Unreachable { cause, .. } => (
            exit::UNREACHABLE,
            match cause {
                Unreachable::Timeout => format!("{base} did not answer in time"),
                Unreachable::HostNotFound => format!(
                    "the server name in {base} was not found (check the address and the \
                     network)"
                ),
                Unreachable::Connect(detail) => format!(
                    "cannot connect to {base} ({detail}); check the address, the network, and \
                     that the server is running"
                ),
                Unreachable::Tls(problem) => {
                    format!("the secure connection to {base} failed: {problem}")
                }
            },
        ),
        NodeError::BadAnswer {
            cause: BadAnswer::TooLarge { limit },
            ..
        } => (
            exit::BAD_ANSWER,
            format!("{base}'s answer is larger than expected (more than {limit} bytes)"),
        ),
        NodeError::InvalidUrl { detail, .. } => (
            exit::ERROR,
            format!("{base} is not a usable address ({detail})"),
        ),
        NodeError::Request(e) => (exit::ERROR, format!("cannot encode the request ({e})")),
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
    fn addresses_and_failures() {
        let net = Transport::default();
        let s = server(&net, "https://192.168.1.20:8443/", "--node").unwrap();
        assert_eq!(s.base(), "https://192.168.1.20:8443");
        for bad in ["", "node:8080", "ftp://node:8080", "http://node:8080/v1"] {
            let e = server(&net, bad, "--node").unwrap_err();
            assert_eq!(e.code, exit::ERROR, "{bad}");
            assert!(e.message.starts_with("--node "), "{}", e.message);
            assert!(e.message.contains("https://HOST:PORT"), "{}", e.message);
        }
        let e = server(&net, "http://192.168.1.20:8080", "--node").unwrap_err();
        assert!(e.message.contains("--insecure-http"), "{}", e.message);
        let loose = Transport::default().allow_insecure_http(true);
        let s = server(&loose, "http://192.168.1.20:8080/", "--node").unwrap();
        assert_eq!(s.base(), "http://192.168.1.20:8080");
        let tls = NodeError::Unreachable {
            url: s.join("/v1/export"),
            cause: Unreachable::Tls(ecert_client::TlsProblem::UnknownAuthority),
        };
        let f = failure(&s, &tls);
        assert_eq!(f.code, exit::UNREACHABLE);
        assert!(f.message.contains("secure connection"), "{}", f.message);
        let unavailable = NodeError::Unavailable {
            error: ErrorBody::parse(br#"{"error":"no-quorum","message":"try later"}"#),
        };
        let f = failure(&s, &unavailable);
        assert_eq!(f.code, exit::BAD_ANSWER);
        assert!(f
            .message
            .contains("unexpected status 503. The server said: try later"));
        let dead = NodeError::Unreachable {
            url: s.join("/v1/export"),
            cause: Unreachable::Connect("refused".into()),
        };
        let f = failure(&s, &dead);
        assert_eq!(f.code, exit::UNREACHABLE);
        assert!(f.message.contains("cannot connect"), "{}", f.message);
        assert_eq!(said(Some(&ErrorBody::parse(b"<html>"))), "");
    }
}
