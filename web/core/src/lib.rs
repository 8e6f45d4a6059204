//! # ecert-web
//!
//! The pure cores of ecert compiled to WebAssembly for the browser wallet and counter
//! apps. The rules and the cryptography come from the Rust crates (`ecert_wallet`,
//! `ecert_verifier`, `ecert_sealed`, `ecert_qr`, `ecert_schemas`), never from JavaScript.
//!
//! The logic is plain Rust, tested natively: [`wallet::Wallet`], [`counter::Counter`],
//! [`counter::Revocations`], [`scan`]; `bindings` wraps it with `wasm-bindgen`. Time
//! (`now`, seconds since 1970-01-01 UTC, e.g. `Date.now() / 1000`) always comes in from
//! JavaScript; randomness comes from the browser (`crypto.getRandomValues`, through
//! `getrandom`).
//!
//! ## The JavaScript API (`web/core/pkg/ecert_web.js`, `--target web`)
//!
//! Bytes are `Uint8Array`; results are plain objects (TypeScript interfaces in
//! `ecert_web.d.ts`); absent values are `null`. Failures throw an `Error` with a stable
//! `code` property (table below) and a plain-words `message`.
//!
//! | call | what it does |
//! |---|---|
//! | `Wallet.create()` | a new wallet: fresh holder key, no certificates |
//! | `Wallet.open(file, passphrase)` | opens an `ECW1` wallet or backup file (the command-line wallet's) |
//! | `wallet.seal(passphrase, kdf?)` | the wallet file to store (default KDF: [`wallet::default_kdf`]) |
//! | `wallet.id`, `wallet.count` | wallet ID (64 hex digits), number of certificates |
//! | `wallet.redeemRequest(code)` | the signed CBOR request that collects a department's offer |
//! | `wallet.receive(packages, now)` | adds `.ecp` packages of either format, all or nothing, with every check of `ecert-wallet receive`; a newer issue of a certificate of one-time copies replaces the one held (`replaced`) |
//! | `wallet.list(now)`, `wallet.describe(selector, now)` | certificates with kind names and labels, validity, fields, copies left (`copiesLeft`, `copies`, `copiesLow`), and whether to ask for new copies (`refillDue`) |
//! | `wallet.refillRequest(selector, now)` | the signed CBOR request for new copies of a certificate (one copy, or the whole certificate of the older format): post it to its department's `refillUrl` (`docs/protocol.md` §9b) |
//! | `wallet.receiveRefill(selector, package, now)` | the department's `200` answer: new one-time copies of that certificate, which replace the ones held (`replacedAt`); anything else is refused |
//! | `wallet.present(choices, now, nonce?, reuseCopy?)` | QR string and SVG; live mode without `nonce`; one-time copies: a new copy, marked used now (`copiesSpent`); recorded in the history (`recorded`: seal and store before showing) |
//! | `wallet.renew(now)` | the last presentation signed again, same copies (live codes for one counter); nothing marked or recorded |
//! | `wallet.revocationStatus(revocations, now)` | each certificate revoked or not (one-time copies: any copy) |
//! | `wallet.batchRoots()` | the wallet's distinct batches: root (hex) and certificate ids |
//! | `wallet.anchorStatus(receipt, anchorText, now)` | an anchor receipt checked against the anchor: the certificates it covers, anchoring and certified block |
//! | `wallet.readRequest(text, registry, now)` | a counter's request (`ECQ1:`) checked against the kept registry: who asks, what, why, and what the wallet would show of each kind or why not ([`request`]) |
//! | `wallet.answerRequest(declined, now)` | the answer: exactly the fields asked less those declined, bound to the request, recorded in the history with the counter's name (seal and store before showing) |
//! | `wallet.history()` | the history of presentations, newest first: time, counter, certificates (kind names, short id) and field labels, never values; `full` |
//! | `wallet.clearHistory()` | deletes the history (`ecert-wallet history --clear`); seal and store afterwards |
//! | `LedgerRegistry.check(bytes, revocations)`, `registry.info()` | a node's registry accepted only if the certified header of a verified revocation state commits to it |
//! | `counterKeyNew()`, `counterKeyPublic(key)` | a counter's own key (32 bytes, kept on its device) and its public key for the department |
//! | `store.checkRegistration(file, key, now)` | a counter registration file checked as `ecert-verify registration` does |
//! | `signRequest(registration, key, asks, purpose, now)`, `store.checkRequest(text, now)` | a signed request, and the check a wallet will make of it |
//! | `store.verifyAnswer(qr, request, now, policy?)` | a code checked as the answer to a request: the verdict with the request's binding as nonce, and `missing`, `unasked`, `accepted` |
//! | `TrustStore.sync(bundle, anchorText, current?, allowOlder?)` | a trust bundle checked against the anchor |
//! | `store.info(now)`, `store.verify(qr, now, policy?)` | data age; the verdict of a QR code |
//! | `Revocations.fromDelta(delta, anchorText)`, `revocations.update(delta, anchorText)` | a revocation delta checked against the anchor |
//! | `revocations.toBytes()`, `Revocations.fromBytes(bytes, anchorText)` | the state kept between sessions, checked again when read |
//! | `parseOfferLink(text)` | an offer link's server, code and redemption URL (the wallet library's rules) |
//! | `parseServerAddress(text)` | a department's server (`https://HOST[:PORT]`, or taken from an offer link) and its `refillUrl` |
//! | `anchorInfo(text)` | a trust anchor file's ledger and validator set, and its canonical text |
//! | `challenge()` | a counter's challenge (16 hex digits) |
//! | `decodeQrFrame(rgba, width, height)` | the QR code in a camera frame |
//! | `qrSvg(text)`, `kinds()`, `defaultKdf()`, `lightKdf()` | drawing, kind labels and audiences, KDF settings |
//!
//! ## Error codes
//!
//! The verifier's reasons ([`ecert_verifier::VerifyError::code`], e.g. `malformed`,
//! `header-not-certified`, `trust-data-mismatch`, `unsupported-version`) for trust
//! bundles, revocation deltas and anchor receipts — the same codes as `ecert-verify`; a rejected QR code is
//! not thrown but returned by `verify` (`valid: false`, `code`, `reason`). And:
//!
//! | code | meaning |
//! |---|---|
//! | `wrong-passphrase` | wrong passphrase, or the file was changed |
//! | `not-a-wallet-file` | not an `ECW1` file |
//! | `unsupported-wallet-version` | made by newer software |
//! | `wallet-damaged` | the file or a certificate in it cannot be read |
//! | `kdf-out-of-bounds` | key-derivation settings outside the safe bounds |
//! | `weak-passphrase` | a new passphrase that breaks the rules: shorter than 8 characters, longer than 1024, or only spaces |
//! | `not-a-package` | `receive`: not a certificate file (`position` says which) |
//! | `package-damaged` | `receive`: unreadable certificate, a field not matching it, or a copy not fitting the others or repeating one |
//! | `issued-to-another-wallet` | `receive`: bound to another wallet ID (one-time copies: they do not fit this wallet's key) |
//! | `no-copies-left` | `present`: every copy of a certificate of one-time copies has been shown (ask its department for new copies) |
//! | `mixed-formats` | `present`: certificates of one-time copies and of the older format in one code |
//! | `no-presentation` | `renew`: no presentation made, or the certificates changed since |
//! | `audience-only` | `present`: a kind shown only to registered counters, in answer to their request |
//! | `no-such-certificate`, `ambiguous-certificate` | a selector matches no or several certificates |
//! | `bad-choice` | no certificate chosen, more than 8, or one twice |
//! | `unknown-field`, `field-not-in-certificate` | a field key the kind or the certificate lacks |
//! | `not-a-request` | not a counter's request (`ECQ1:`) |
//! | `request-stale`, `request-forged`, `request-not-allowed` | a request too old (or from the future), not signed by the registered counter, or asking what its registration does not allow |
//! | `registration-forged`, `registration-not-valid`, `registration-other-ledger`, `registration-unknown-department` | a counter's registration not signed by its department, not valid now, of another ledger, or naming a department or key the registry lacks |
//! | `not-a-registration`, `registration-other-key` | not a registration file; a registration of another counter's key |
//! | `no-request`, `nothing-to-show` | `answerRequest` without a request read; nothing left to show |
//! | `not-recorded` | `present`, `answerRequest`: the history refuses the entry, so no code is made |
//! | `refill-failed` | a request for new copies could not be made |
//! | `refill-other-certificate` | `receiveRefill`: the answer is not new copies of the certificate asked about |
//! | `expired` | `refillRequest`: the certificate has expired (nothing to refill) |
//! | `bad-address` | not a server address (`https://HOST[:PORT]`) |
//! | `bad-anchor` | the trust anchor text is not an anchor file |
//! | `bad-link` | not an offer link, or not an offer code |
//! | `older-data` | `sync`: older than the data held |
//! | `other-batch` | `anchorStatus`: the receipt is about a batch holding none of the wallet's certificates |
//! | `qr-not-found`, `qr-unreadable`, `qr-several`, `qr-too-large` | reading or drawing a QR code |
//! | `bad-argument` | an argument of the wrong shape or range |
//! | `internal` | a fault of this software |

pub mod anchoring;
pub mod counter;
mod error;
pub mod request;
pub mod scan;
pub mod views;
pub mod wallet;

mod bindings;

pub use error::WebError;

use ecert_schemas::{KindRegistry, UnixTime};

/// The kinds this software knows (`schemas/kinds/*.toml`, built in).
pub fn builtin_kinds() -> Result<KindRegistry, WebError> {
    KindRegistry::builtin().map_err(|e| WebError::Internal(format!("the built-in kinds: {e}")))
}

/// A time from JavaScript (seconds since 1970-01-01 UTC, fractions dropped).
pub fn unix_time(secs: f64) -> Result<UnixTime, WebError> {
    whole_number(secs, "a time in seconds since 1970").map(UnixTime)
}

/// A whole number from JavaScript (fractions dropped): finite, not negative, and below
/// 2^53, the largest integer a JavaScript number holds exactly.
pub fn whole_number(value: f64, what: &str) -> Result<u64, WebError> {
    const MAX: f64 = 9_007_199_254_740_992.0;
    if value.is_finite() && (0.0..MAX).contains(&value) {
        Ok(value.floor() as u64)
    } else {
        Err(WebError::BadArgument(format!("{value} is not {what}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_from_javascript() {
        assert_eq!(
            unix_time(1_790_000_000.75).unwrap(),
            UnixTime(1_790_000_000)
        );
        assert_eq!(unix_time(0.0).unwrap(), UnixTime(0));
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e300] {
            assert_eq!(unix_time(bad).unwrap_err().code(), "bad-argument");
        }
    }
}
