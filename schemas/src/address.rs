//! A server's address, `https://HOST[:PORT]` or `http://HOST[:PORT]`, and a department's
//! offer link: the one parser for the addresses people give the tools (`--node`,
//! `--issuer`, offer links and their QR codes) and the browser wallet. Pure: no I/O.
//!
//! Whether a parsed address may be used is the connection policy's call (`ecert-client`'s
//! `Transport::check`): plain `http://` only to this computer (loopback) unless the person
//! asked for `--insecure-http`.

use core::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use thiserror::Error;

/// How to write an address, for messages.
const HOW: &str = "give it as https://HOST:PORT (for example https://10.1.2.3:8443)";

/// Why an address was refused. Its message says how to write one.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{text:?}: {problem}")]
pub struct UrlError {
    /// The address as given (trimmed).
    pub text: String,
    /// What is wrong with it.
    pub problem: UrlProblem,
}

/// What is wrong with an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum UrlProblem {
    /// Neither `https://...` nor `http://...`.
    #[error("it must start with https:// (or http:// on this computer); {HOW}")]
    NotHttp,
    /// Nothing after the scheme.
    #[error("the address has no host; {HOW}")]
    NoHost,
    /// A path, query, fragment, user or space after the host.
    #[error("only the host and port may follow the scheme; {HOW}")]
    NotOnlyHost,
    /// A port that is not a number from 1 to 65535.
    #[error("the port must be a number from 1 to 65535; {HOW}")]
    BadPort,
    /// Plain `http://` to another computer, without `--insecure-http`.
    #[error(
        "plain http:// is only allowed to this computer (127.0.0.1, ::1, localhost); use \
         https:// (see --ca), or add --insecure-http to send it unencrypted on a network you \
         trust"
    )]
    PlainHttp,
}

/// The scheme of an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http://`: no encryption.
    Http,
    /// `https://`: TLS.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A server's base address, `https://HOST[:PORT]` or `http://HOST[:PORT]`, without a
/// trailing slash.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerUrl {
    base: String,
}

impl ServerUrl {
    /// Reads `https://HOST[:PORT]` or `http://HOST[:PORT]` (surrounding spaces and one
    /// trailing `/` allowed; the scheme in any case). Nothing may follow the host and port.
    /// Any host is accepted here; [`crate::tls::Transport::check`] decides whether plain
    /// HTTP may go to it.
    pub fn parse(text: &str) -> Result<ServerUrl, UrlError> {
        let text = text.trim();
        let bad = |problem| UrlError {
            text: text.to_owned(),
            problem,
        };
        let after = |s: &str| {
            text.get(..s.len())
                .filter(|p| p.eq_ignore_ascii_case(s))
                .and_then(|_| text.get(s.len()..))
        };
        let (scheme, rest) = match (after("https://"), after("http://")) {
            (Some(rest), _) => (Scheme::Https, rest),
            (None, Some(rest)) => (Scheme::Http, rest),
            (None, None) => return Err(bad(UrlProblem::NotHttp)),
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
            base: format!("{}://{host}", scheme.as_str()),
        })
    }

    /// An address taken as configured, not checked: only a trailing `/` is removed. For
    /// addresses a program already checked elsewhere; a bad one fails on each request.
    pub fn unchecked(text: &str) -> ServerUrl {
        ServerUrl {
            base: text.trim().trim_end_matches('/').to_owned(),
        }
    }

    /// The address, `https://HOST[:PORT]` or `http://HOST[:PORT]`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The scheme (an unchecked address that is neither counts as HTTP).
    pub fn scheme(&self) -> Scheme {
        if self
            .base
            .get(.."https://".len())
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        {
            Scheme::Https
        } else {
            Scheme::Http
        }
    }

    /// The host as written (an IPv6 literal keeps its brackets), without the port.
    pub fn host(&self) -> &str {
        let rest = self
            .base
            .split_once("://")
            .map_or(self.base.as_str(), |(_, rest)| rest);
        if rest.starts_with('[') {
            return rest.split_inclusive(']').next().unwrap_or(rest);
        }
        rest.rsplit_once(':').map_or(rest, |(host, _)| host)
    }

    /// Whether the host is this computer: `localhost`, 127.0.0.0/8 or `::1`.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.host())
    }

    /// The full URL of `path` (which starts with `/`, and may carry a query).
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Whether `host` (as in a URL: IPv6 in brackets) names this computer: `localhost`,
/// 127.0.0.0/8 or `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
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

/// Longest offer code a wallet sends.
pub const MAX_OFFER_CODE_CHARS: usize = 128;

/// The fragment key under which a wallet app's link carries an offer link:
/// `https://NODE/wallet/#offer=PERCENT-ENCODED-OFFER-LINK` (the offer page's button).
pub const OFFER_FRAGMENT: &str = "offer=";

/// What is percent-encoded in the offer link put after `#offer=`: everything but letters,
/// digits and `-` `.` `_` `~`.
const FRAGMENT_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The link that opens an offer in the wallet app (the offer page's button):
/// `WALLET_APP#offer=` and the offer link, percent-encoded. [`OfferLink::parse`] reads it.
pub fn wallet_app_link(wallet_app: &str, offer_url: &str) -> String {
    format!(
        "{wallet_app}#{OFFER_FRAGMENT}{}",
        percent_encoding::utf8_percent_encode(offer_url, FRAGMENT_VALUE)
    )
}

/// Whether `code` is an offer code a wallet sends: 1 to [`MAX_OFFER_CODE_CHARS`] ASCII
/// letters, digits and `-` `.` `_` `~` (safe in a URL path as it is).
pub fn is_valid_offer_code(code: &str) -> bool {
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
    !code.is_empty() && code.chars().count() <= MAX_OFFER_CODE_CHARS && code.chars().all(valid)
}

/// A department's offer link, read: its offer server and the one-time code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferLink {
    /// The department's offer server.
    pub server: ServerUrl,
    /// The offer code ([`is_valid_offer_code`]).
    pub code: String,
}

/// Why a text is not an offer link. The messages say what a link looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum OfferLinkError {
    /// The server part is not an address ([`ServerUrl::parse`]'s reason).
    #[error("the offer link's server address is not usable: {0}")]
    Server(UrlProblem),
    /// The path is not `/v1/offers/CODE` (a query or fragment included).
    #[error("an offer link looks like https://HOST:PORT/v1/offers/CODE")]
    Path,
    /// The code has characters other than letters, digits and `-` `.` `_` `~`, or is too
    /// long.
    #[error(
        "the offer code in the link is not valid: 1 to {MAX_OFFER_CODE_CHARS} letters, digits \
         and - . _ ~"
    )]
    Code,
    /// A wallet app link whose `#offer=` part is not percent-encoded UTF-8.
    #[error("the offer in the wallet app link is not readable")]
    Encoding,
}

impl OfferLink {
    /// Reads an offer link as a department gives it (as text or in its QR code):
    /// `http(s)://HOST[:PORT]/v1/offers/CODE` (surrounding spaces and one trailing `/`
    /// allowed), or a wallet app link that carries one percent-encoded after
    /// `#offer=` (the offer page's button, `https://NODE/wallet/#offer=...`).
    pub fn parse(text: &str) -> Result<OfferLink, OfferLinkError> {
        let text = text.trim();
        if let Some((_, encoded)) = text.split_once(&format!("#{OFFER_FRAGMENT}")) {
            let decoded = percent_encoding::percent_decode_str(encoded)
                .decode_utf8()
                .map_err(|_| OfferLinkError::Encoding)?;
            return OfferLink::parse_plain(&decoded);
        }
        OfferLink::parse_plain(text)
    }

    /// `http(s)://HOST[:PORT]/v1/offers/CODE[/]`, nothing else.
    fn parse_plain(text: &str) -> Result<OfferLink, OfferLinkError> {
        let text = text.trim();
        let (scheme, rest) = text
            .split_once("://")
            .ok_or(OfferLinkError::Server(UrlProblem::NotHttp))?;
        let (host, path) = rest.split_once('/').ok_or(OfferLinkError::Path)?;
        let server = ServerUrl::parse(&format!("{scheme}://{host}"))
            .map_err(|e| OfferLinkError::Server(e.problem))?;
        let code = path
            .strip_prefix(crate::api::OFFERS.trim_start_matches('/'))
            .and_then(|c| c.strip_prefix('/'))
            .ok_or(OfferLinkError::Path)?;
        let code = code.strip_suffix('/').unwrap_or(code);
        if code.is_empty() || code.contains(['?', '#']) {
            return Err(OfferLinkError::Path);
        }
        if !is_valid_offer_code(code) {
            return Err(OfferLinkError::Code);
        }
        Ok(OfferLink {
            server,
            code: code.to_owned(),
        })
    }

    /// The offer link itself: `SERVER/v1/offers/CODE`.
    pub fn url(&self) -> String {
        self.server.join(&crate::api::offer(&self.code))
    }

    /// Where the redemption request is posted: `SERVER/v1/offers/CODE/redeem`.
    pub fn redeem_url(&self) -> String {
        self.server.join(&crate::api::offer_redeem(&self.code))
    }
}

impl fmt::Display for OfferLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url())
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
        for (text, base, scheme, host) in [
            (
                " HTTP://node.example:80 ",
                "http://node.example:80",
                Scheme::Http,
                "node.example",
            ),
            (
                "HTTP://node.example",
                "http://node.example",
                Scheme::Http,
                "node.example",
            ),
            (
                "http://10.1.2.3:8080/",
                "http://10.1.2.3:8080",
                Scheme::Http,
                "10.1.2.3",
            ),
            (
                "http://[::1]:7300",
                "http://[::1]:7300",
                Scheme::Http,
                "[::1]",
            ),
            ("http://[::1]", "http://[::1]", Scheme::Http, "[::1]"),
            (
                "https://node:8443",
                "https://node:8443",
                Scheme::Https,
                "node",
            ),
            (
                "HTTPS://10.1.2.3/",
                "https://10.1.2.3",
                Scheme::Https,
                "10.1.2.3",
            ),
            ("https://[::1]:1", "https://[::1]:1", Scheme::Https, "[::1]"),
        ] {
            let s = ServerUrl::parse(text).unwrap();
            assert_eq!(s.base(), base, "{text}");
            assert_eq!(s.scheme(), scheme, "{text}");
            assert_eq!(s.host(), host, "{text}");
        }
    }

    #[test]
    fn bad_addresses_say_why_and_how() {
        for (bad, problem) in [
            ("", UrlProblem::NotHttp),
            ("node:8080", UrlProblem::NotHttp),
            ("10.1.2.3:8080", UrlProblem::NotHttp),
            ("ftp://node", UrlProblem::NotHttp),
            ("http:/node", UrlProblem::NotHttp),
            ("http://", UrlProblem::NoHost),
            ("https://", UrlProblem::NoHost),
            ("http:///", UrlProblem::NoHost),
            ("http://:80", UrlProblem::NoHost),
            ("http://node:8080/v1", UrlProblem::NotOnlyHost),
            ("https://node/v1/export", UrlProblem::NotOnlyHost),
            ("http://h/v1/export", UrlProblem::NotOnlyHost),
            ("http://user@node", UrlProblem::NotOnlyHost),
            ("https://a@node", UrlProblem::NotOnlyHost),
            ("http://no de", UrlProblem::NotOnlyHost),
            ("http://node?x", UrlProblem::NotOnlyHost),
            ("http://node:", UrlProblem::BadPort),
            ("https://node:0", UrlProblem::BadPort),
            ("http://node:65536", UrlProblem::BadPort),
            ("http://node:8o", UrlProblem::BadPort),
        ] {
            let e = ServerUrl::parse(bad).unwrap_err();
            assert_eq!(e.problem, problem, "{bad}");
            assert!(e.to_string().contains("https://HOST:PORT"), "{e}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for (text, loopback) in [
            ("http://127.0.0.1:7300", true),
            ("http://127.8.9.10", true),
            ("http://localhost:1", true),
            ("http://LocalHost", true),
            ("http://[::1]:7300", true),
            ("http://10.0.0.1:7300", false),
            ("http://192.0.2.7", false),
            ("http://localhost.example", false),
            ("http://127.0.0.1.example", false),
            ("http://[::2]", false),
            ("https://node.example", false),
        ] {
            assert_eq!(
                ServerUrl::parse(text).unwrap().is_loopback(),
                loopback,
                "{text}"
            );
        }
    }

    #[test]
    fn unchecked_addresses_only_lose_the_slash() {
        let s = ServerUrl::unchecked("http://127.0.0.1:7300/");
        assert_eq!(s.base(), "http://127.0.0.1:7300");
        assert!(s.is_loopback());
        assert_eq!(ServerUrl::unchecked("https://x").scheme(), Scheme::Https);
    }

    #[test]
    fn offer_links() {
        for (text, server, code) in [
            (
                "http://10.0.0.5:8443/v1/offers/K7Q2-99XF",
                "http://10.0.0.5:8443",
                "K7Q2-99XF",
            ),
            (
                " HTTPS://issuer.example/v1/offers/abc/ ",
                "https://issuer.example",
                "abc",
            ),
            (
                "http://[::1]:7300/v1/offers/a_1.2~x",
                "http://[::1]:7300",
                "a_1.2~x",
            ),
            // The offer page's button: a wallet app link carrying the offer link.
            (
                "https://127.0.0.1:7101/wallet/#offer=https%3A%2F%2F127.0.0.1%3A7400%2Fv1%2Foffers%2FAB-12",
                "https://127.0.0.1:7400",
                "AB-12",
            ),
        ] {
            let link = OfferLink::parse(text).unwrap();
            assert_eq!((link.server.base(), link.code.as_str()), (server, code));
        }
        let link = OfferLink::parse("https://h:1/v1/offers/AB").unwrap();
        let wrapped = wallet_app_link("https://n:7101/wallet/", &link.url());
        assert_eq!(
            wrapped,
            "https://n:7101/wallet/#offer=https%3A%2F%2Fh%3A1%2Fv1%2Foffers%2FAB"
        );
        assert_eq!(OfferLink::parse(&wrapped), Ok(link.clone()));
        assert_eq!(link.redeem_url(), "https://h:1/v1/offers/AB/redeem");
        assert_eq!(link.to_string(), "https://h:1/v1/offers/AB");

        for (text, why) in [
            ("abc", OfferLinkError::Server(UrlProblem::NotHttp)),
            (
                "ftp://h/v1/offers/abc",
                OfferLinkError::Server(UrlProblem::NotHttp),
            ),
            ("http://h", OfferLinkError::Path),
            (
                "http:///v1/offers/abc",
                OfferLinkError::Server(UrlProblem::NoHost),
            ),
            (
                "http://u@h/v1/offers/abc",
                OfferLinkError::Server(UrlProblem::NotOnlyHost),
            ),
            (
                "http://h:0/v1/offers/abc",
                OfferLinkError::Server(UrlProblem::BadPort),
            ),
            (
                "http://h:x/v1/offers/abc",
                OfferLinkError::Server(UrlProblem::BadPort),
            ),
            (
                "http://:80/v1/offers/abc",
                OfferLinkError::Server(UrlProblem::NoHost),
            ),
            ("http://h/v1/offer/abc", OfferLinkError::Path),
            ("http://h/v1/offersabc", OfferLinkError::Path),
            ("http://h/v1/offers/", OfferLinkError::Path),
            ("http://h/v1/offers/abc?x=1", OfferLinkError::Path),
            ("http://h/v1/offers/a/b", OfferLinkError::Code),
            ("http://h/v1/offers/a%20b", OfferLinkError::Code),
            ("https://n/wallet/#offer=%FF%FE", OfferLinkError::Encoding),
            // One level of wrapping only.
            (
                "https://n/wallet/#offer=https%3A%2F%2Fn%2Fwallet%2F%23offer%3Dx",
                OfferLinkError::Path,
            ),
        ] {
            assert_eq!(OfferLink::parse(text), Err(why), "{text}");
        }
        assert!(is_valid_offer_code(&"x".repeat(MAX_OFFER_CODE_CHARS)));
        assert!(!is_valid_offer_code(&"x".repeat(MAX_OFFER_CODE_CHARS + 1)));
        assert!(!is_valid_offer_code(""));
    }
}
