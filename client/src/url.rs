//! A server's address, `http://HOST[:PORT]`: the one parser for the addresses people give
//! the tools (`--node`, `--issuer`, offer links), and the one place where `https://` will
//! be accepted once a TLS stack is compiled in (today it is refused with a clear message).

use core::fmt;

use thiserror::Error;

/// Why an address was refused. Its message ends with how to write one.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{text:?}: {problem}; give it as http://HOST:PORT (for example http://10.1.2.3:8080)")]
pub struct UrlError {
    /// The address as given (trimmed).
    pub text: String,
    /// What is wrong with it.
    pub problem: UrlProblem,
}

/// What is wrong with an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum UrlProblem {
    /// `https://`: not supported by this version.
    #[error("secure (https) addresses are not supported by this version, only http")]
    Https,
    /// Not `http://...`.
    #[error("it must start with http://")]
    NotHttp,
    /// Nothing after `http://`.
    #[error("the address has no host")]
    NoHost,
    /// A path, query, fragment, user or space after the host.
    #[error("only the host and port may follow http://")]
    NotOnlyHost,
    /// A port that is not a number from 1 to 65535.
    #[error("the port must be a number from 1 to 65535")]
    BadPort,
}

/// A server's base address, `http://HOST[:PORT]`, without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerUrl {
    base: String,
}

impl ServerUrl {
    /// Reads `http://HOST[:PORT]` (surrounding spaces and one trailing `/` allowed; the
    /// scheme in any case). Nothing may follow the host and port.
    pub fn parse(text: &str) -> Result<ServerUrl, UrlError> {
        let text = text.trim();
        let bad = |problem| UrlError {
            text: text.to_owned(),
            problem,
        };
        let scheme = |s: &str| {
            text.get(..s.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(s))
        };
        // The one place https will be accepted, once the tools carry a TLS stack.
        if scheme("https://") {
            return Err(bad(UrlProblem::Https));
        }
        let Some(rest) = text.get("http://".len()..).filter(|_| scheme("http://")) else {
            return Err(bad(UrlProblem::NotHttp));
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if host.is_empty() {
            return Err(bad(UrlProblem::NoHost));
        }
        if host.contains(['/', '?', '#', '@', '\\']) || host.chars().any(char::is_whitespace) {
            return Err(bad(UrlProblem::NotOnlyHost));
        }
        // The port, if any, follows the last ':' after an IPv6 literal's ']'.
        let after_literal = host.rsplit_once(']').map_or(host, |(_, after)| after);
        if let Some((name, port)) = after_literal.rsplit_once(':') {
            let numeric = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
            if !numeric || !port.parse::<u16>().is_ok_and(|p| p > 0) {
                return Err(bad(UrlProblem::BadPort));
            }
            if name.is_empty() && !host.starts_with('[') {
                return Err(bad(UrlProblem::NoHost));
            }
        }
        Ok(ServerUrl {
            base: format!("http://{host}"),
        })
    }

    /// An address taken as configured, not checked: only a trailing `/` is removed. For
    /// addresses a program already checked elsewhere; a bad one fails on each request.
    pub(crate) fn unchecked(text: &str) -> ServerUrl {
        ServerUrl {
            base: text.trim().trim_end_matches('/').to_owned(),
        }
    }

    /// The address, `http://HOST[:PORT]`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The full URL of `path` (which starts with `/`, and may carry a query).
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

impl core::str::FromStr for ServerUrl {
    type Err = UrlError;

    fn from_str(text: &str) -> Result<ServerUrl, UrlError> {
        ServerUrl::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_addresses() {
        let s = ServerUrl::parse("http://192.168.1.20:8080/").unwrap();
        assert_eq!(s.base(), "http://192.168.1.20:8080");
        assert_eq!(
            s.join("/v1/revocations"),
            "http://192.168.1.20:8080/v1/revocations"
        );
        assert_eq!(s.to_string(), "http://192.168.1.20:8080");
        for (text, base) in [
            (" HTTP://node.example:80 ", "http://node.example:80"),
            ("HTTP://node.example", "http://node.example"),
            ("http://10.1.2.3:8080/", "http://10.1.2.3:8080"),
            ("http://[::1]:7300", "http://[::1]:7300"),
            ("http://[::1]", "http://[::1]"),
        ] {
            assert_eq!(ServerUrl::parse(text).unwrap().base(), base, "{text}");
        }
    }

    #[test]
    fn bad_addresses_say_why_and_how() {
        for (bad, problem) in [
            ("", UrlProblem::NotHttp),
            ("node:8080", UrlProblem::NotHttp),
            ("10.1.2.3:8080", UrlProblem::NotHttp),
            ("ftp://node", UrlProblem::NotHttp),
            ("https://node:8080", UrlProblem::Https),
            ("HTTPS://10.1.2.3", UrlProblem::Https),
            ("http://", UrlProblem::NoHost),
            ("http:///", UrlProblem::NoHost),
            ("http://:80", UrlProblem::NoHost),
            ("http://node:8080/v1", UrlProblem::NotOnlyHost),
            ("http://node/v1/export", UrlProblem::NotOnlyHost),
            ("http://h/v1/export", UrlProblem::NotOnlyHost),
            ("http://user@node", UrlProblem::NotOnlyHost),
            ("http://a@node", UrlProblem::NotOnlyHost),
            ("http://no de", UrlProblem::NotOnlyHost),
            ("http://node?x", UrlProblem::NotOnlyHost),
            ("http://node:", UrlProblem::BadPort),
            ("http://node:0", UrlProblem::BadPort),
            ("http://node:65536", UrlProblem::BadPort),
            ("http://node:8o", UrlProblem::BadPort),
        ] {
            let e = ServerUrl::parse(bad).unwrap_err();
            assert_eq!(e.problem, problem, "{bad}");
            assert!(e.to_string().contains("http://HOST:PORT"), "{e}");
        }
        assert!(ServerUrl::parse("https://node")
            .unwrap_err()
            .to_string()
            .contains("https"));
    }

    #[test]
    fn unchecked_addresses_only_lose_the_slash() {
        assert_eq!(
            ServerUrl::unchecked("http://127.0.0.1:7300/").base(),
            "http://127.0.0.1:7300"
        );
    }
}
