//! Fetching the ledger's export from a ledger node over plain HTTP (`GET /v1/export`,
//! `docs/api.md`). The node is not trusted: what it sends goes through exactly the checks
//! a file does. Every network problem is a [`Failure`] with exit code
//! [`exit::COUNTER_ERROR`] and a message saying what to do.

use std::time::Duration;

use serde_json::Value;

use crate::exit::{self, Failure};

/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest error answer read.
const MAX_ERROR_BYTES: u64 = 64 * 1024;

/// A ledger node's address: `http://HOST[:PORT]`, without a trailing slash.
#[derive(Debug)]
pub struct Node {
    base: String,
}

impl Node {
    /// Reads `http://HOST[:PORT]` (a trailing `/` is allowed).
    pub fn parse(text: &str) -> Result<Node, Failure> {
        let text = text.trim();
        let bad = |why: &str| {
            Failure::counter(format!(
                "--node {text:?}: {why}; give the ledger node's address as http://HOST:PORT \
                 (for example http://10.1.2.3:8080)"
            ))
        };
        let scheme = |s: &str| {
            text.get(..s.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(s))
        };
        if scheme("https://") {
            return Err(bad(
                "secure (https) addresses are not supported by this version, only http",
            ));
        }
        let Some(rest) = text.get(7..).filter(|_| scheme("http://")) else {
            return Err(bad("it must start with http://"));
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
            return Err(bad("only the host and port may follow http://"));
        }
        Ok(Node {
            base: format!("http://{host}"),
        })
    }

    /// The address, `http://HOST[:PORT]`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET /v1/export`: the node's trust bundle, at most `limit` bytes, within `timeout`
    /// for the whole download.
    pub fn export(&self, limit: u64, timeout: Duration) -> Result<Vec<u8>, Failure> {
        let base = &self.base;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(timeout))
            .user_agent(concat!("ecert-verify/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = ureq::Agent::new_with_config(config);
        let mut response = agent
            .get(format!("{base}/v1/export"))
            .header("accept", "application/cbor")
            .call()
            .map_err(|e| self.failed(&e, timeout))?;
        let status = response.status().as_u16();
        let limit = if status == 200 {
            limit
        } else {
            MAX_ERROR_BYTES
        };
        let body = response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => Failure::counter(format!(
                    "{base} sent more than {limit} bytes, more than any ledger export may \
                     be; nothing was changed. Check the address"
                )),
                other => self.failed(&other, timeout),
            })?;
        if status != 200 {
            return Err(Failure::counter(format!(
                "{base} answered with status {status} instead of the ledger's data.{} \
                 Nothing was changed. Check that this is a ledger node's address, or try \
                 again later",
                said(&body)
            )));
        }
        Ok(body)
    }

    fn failed(&self, error: &ureq::Error, timeout: Duration) -> Failure {
        let base = &self.base;
        let what = match error {
            ureq::Error::Timeout(_) => format!(
                "{base} did not send the ledger's data within {} s (see --timeout)",
                timeout.as_secs()
            ),
            ureq::Error::HostNotFound => {
                format!("the name in {base} was not found (check the address and the network)")
            }
            ureq::Error::ConnectionFailed | ureq::Error::Io(_) => format!(
                "cannot connect to {base} ({error}); check the address, the network, and \
                 that the ledger node is running"
            ),
            other => format!("{base} did not answer as a ledger node does ({other})"),
        };
        Failure {
            code: exit::COUNTER_ERROR,
            message: format!("{what}. Nothing was changed"),
        }
    }
}

/// " The node said: ..." from a JSON error answer, or nothing.
fn said(body: &[u8]) -> String {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return String::new();
    };
    let text = map
        .get("message")
        .or_else(|| map.get("error"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let clean: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
    if clean.is_empty() {
        String::new()
    } else {
        format!(" The node said: {clean}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_addresses() {
        assert_eq!(
            Node::parse("http://10.1.2.3:8080/").unwrap().base(),
            "http://10.1.2.3:8080"
        );
        assert_eq!(
            Node::parse("HTTP://node.example").unwrap().base(),
            "http://node.example"
        );
        for bad in [
            "",
            "10.1.2.3:8080",
            "https://node",
            "http://",
            "http://node/v1/export",
            "http://a@node",
        ] {
            let e = Node::parse(bad).unwrap_err();
            assert_eq!(e.code, exit::COUNTER_ERROR);
            assert!(e.message.contains("http://HOST:PORT"), "{}", e.message);
        }
    }

    #[test]
    fn error_answers() {
        assert_eq!(
            said(br#"{"error":"no-quorum","message":"no\nquorum"}"#),
            " The node said: noquorum."
        );
        assert_eq!(
            said(br#"{"error":"no-quorum"}"#),
            " The node said: no-quorum."
        );
        assert_eq!(said(b"<html>"), "");
    }
}
