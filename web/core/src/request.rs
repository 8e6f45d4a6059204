//! Counters that ask (`docs/protocol.md` §3.3c), for the browser apps: the counter's own
//! key, its registration checked against the ledger's registry, the requests it signs and
//! the answers it checks; and, for the wallet, the ledger's registry kept from its last
//! status check, checked against a certified header. Every rule is
//! `ecert_verifier::request`'s (and, for what a wallet shows, `ecert_wallet::answer`'s),
//! exactly as in `ecert-verify` and `ecert-wallet present --request`.

use ecert_schemas::codec::from_cbor_bounded;
use ecert_schemas::ledger::{BlockHeader, Registry};
use ecert_schemas::request::{
    CounterRegistration, FieldsAsked, PresentationRequest, RequestBody, MAX_ASKED_KINDS, MAX_TEXT,
};
use ecert_schemas::{ChainId, KindId, KindRegistry, Nonce, UnixTime};
use ecert_verifier::commit::registry_root;
use ecert_verifier::request::{
    check_registered_fields, check_registration, check_request, sign_request, AnswerCheck,
    CheckedRequest, RequestError, RequestPolicy,
};
use ecert_verifier::{crypto, VerifyError};
use ed25519_dalek::SigningKey;
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::views::{day, CertificateSummary, FieldLabel};
use crate::WebError;

/// Largest registry read (the command-line wallet's bound).
const MAX_REGISTRY_BYTES: usize = 4 * 1024 * 1024;
/// Bytes of a request's nonce.
const REQUEST_NONCE_BYTES: usize = 16;

/// The ledger's registry (departments and their keys), checked against a certified
/// header: what a wallet checks a counter's registration against, with no network.
#[derive(Clone, Debug)]
pub struct LedgerRegistry {
    registry: Registry,
    chain_id: ChainId,
    height: u64,
}

impl LedgerRegistry {
    /// A node's registry (`GET /v1/registry`, CBOR) accepted only if it is the one
    /// `header` (certified, checked against the trust anchor) commits to, as
    /// `ecert-wallet refresh` keeps it. Otherwise `trust-data-mismatch` (or `malformed`).
    pub fn check(bytes: &[u8], header: &BlockHeader) -> Result<LedgerRegistry, WebError> {
        let registry: Registry = from_cbor_bounded("ledger registry", bytes, MAX_REGISTRY_BYTES)
            .map_err(VerifyError::from)?;
        let root = registry_root(&registry).map_err(VerifyError::from)?;
        if root != header.registry_root {
            return Err(VerifyError::TrustDataMismatch {
                detail: format!(
                    "the node's list of departments is not the one certified at block #{}",
                    header.height
                ),
            }
            .into());
        }
        Ok(LedgerRegistry {
            registry,
            chain_id: header.chain_id.clone(),
            height: header.height,
        })
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The ledger it belongs to.
    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    /// Its ledger, block and number of departments.
    pub fn info(&self) -> RegistryInfo {
        RegistryInfo {
            chain_id: self.chain_id.to_string(),
            height: self.height,
            departments: self.registry.issuers.len(),
        }
    }
}

/// A kept registry, for the app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryInfo {
    /// The ledger's chain id.
    pub chain_id: String,
    /// The certified block whose registry it is.
    pub height: u64,
    /// How many departments it lists.
    pub departments: usize,
}

/// The fields of one kind, as JavaScript passes them: asked for (`signRequest`) or
/// declined (`answerRequest`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AskInput {
    /// Kind id.
    pub kind: String,
    /// Field keys.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// What a request asks of one kind, with the words to show; for a wallet, also what it
/// will show of it, or why not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AskView {
    /// Kind id.
    pub kind: String,
    /// Kind name in English (the id when unknown).
    pub kind_name: String,
    /// Kind name in the local language.
    pub kind_name_local: Option<String>,
    /// The fields asked, with their labels.
    pub fields: Vec<FieldLabel>,
    /// A wallet's answer: the certificate it shows (null: none).
    pub certificate: Option<CertificateSummary>,
    /// A wallet's answer, when it shows none: `not-held`, `none-valid`, `audience` or
    /// `no-copies-left`.
    pub not_shown: Option<&'static str>,
    /// `audience`: the roles the kind may be shown to.
    pub roles: Vec<String>,
    /// Why not, in English.
    pub reason: Option<String>,
}

impl AskView {
    /// The words for `ask`, nothing said about a certificate.
    pub fn of(ask: &FieldsAsked, kinds: &KindRegistry) -> AskView {
        let kind = kinds.get(&ask.kind).ok();
        AskView {
            kind: ask.kind.to_string(),
            kind_name: kind.map_or_else(|| ask.kind.to_string(), |k| k.name.clone()),
            kind_name_local: kind.and_then(|k| k.name_local.clone()),
            fields: ask
                .fields
                .iter()
                .map(|key| {
                    kind.and_then(|k| k.field_by_key(key)).map_or_else(
                        || FieldLabel {
                            key: key.clone(),
                            label: key.clone(),
                            label_local: None,
                        },
                        FieldLabel::from,
                    )
                })
                .collect(),
            certificate: None,
            not_shown: None,
            roles: Vec::new(),
            reason: None,
        }
    }
}

/// A request that passed every check: who asks, what and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestView {
    /// The counter's registered name.
    pub counter: String,
    /// Its name in the local language.
    pub counter_local: Option<String>,
    /// Its role (`office`, `employer`, `hotel`, ...).
    pub role: String,
    /// The department that registered it.
    pub department: String,
    /// That department's name in the ledger's registry.
    pub department_name: String,
    /// Why it asks.
    pub purpose: String,
    /// The nonce the answer carries (hex).
    pub binding: String,
    /// What it asks, by kind.
    pub asks: Vec<AskView>,
}

impl RequestView {
    /// The view of `checked`, nothing said about certificates.
    pub fn of(checked: &CheckedRequest, kinds: &KindRegistry) -> RequestView {
        RequestView {
            counter: checked.counter.clone(),
            counter_local: checked.counter_local.clone(),
            role: checked.role.clone(),
            department: checked.department.to_string(),
            department_name: checked.department_name.clone(),
            purpose: checked.purpose.clone(),
            binding: checked.binding.to_hex(),
            asks: checked.asks.iter().map(|a| AskView::of(a, kinds)).collect(),
        }
    }
}

/// A counter's registration, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationView {
    /// The counter's registered name.
    pub name: String,
    /// Its name in the local language.
    pub name_local: Option<String>,
    /// Its role.
    pub role: String,
    /// The registering department.
    pub department: String,
    /// That department's name in the registry.
    pub department_name: String,
    /// The counter's public key (hex).
    pub counter_key: String,
    /// Start of validity.
    pub valid_from: u64,
    /// End of validity (first second it is no longer valid).
    pub valid_until: u64,
    /// `validUntil` as a date.
    pub valid_until_date: String,
    /// What the counter may ask, by kind.
    pub may_ask: Vec<AskView>,
}

/// One field asked for, in a comparison of an answer with its request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AskedField {
    /// Kind id.
    pub kind: String,
    /// Kind name in English.
    pub kind_name: String,
    /// Kind name in the local language.
    pub kind_name_local: Option<String>,
    /// The field, with its labels.
    pub field: FieldLabel,
}

/// A code checked as the answer to a request: the verdict (the request's binding was the
/// expected nonce) and, when VALID, what it showed compared with what was asked
/// (`ecert-verify verify --request`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerResult {
    /// The verdict.
    pub verdict: crate::views::VerifyResult,
    /// VALID and no field shown that was not asked for: the request is answered.
    pub accepted: bool,
    /// Fields asked for and not shown.
    pub missing: Vec<AskedField>,
    /// Fields shown without being asked for (the answer is then not accepted).
    pub unasked: Vec<AskedField>,
}

impl AnswerResult {
    /// The result of `verdict` compared (`check`, when VALID) with the request.
    pub fn of(
        verdict: crate::views::VerifyResult,
        check: Option<&AnswerCheck>,
        kinds: &KindRegistry,
    ) -> AnswerResult {
        let fields = |list: &[(KindId, String)]| {
            list.iter()
                .map(|(kind, key)| {
                    let view = AskView::of(
                        &FieldsAsked {
                            kind: kind.clone(),
                            fields: vec![key.clone()],
                        },
                        kinds,
                    );
                    AskedField {
                        kind: view.kind,
                        kind_name: view.kind_name,
                        kind_name_local: view.kind_name_local,
                        field: view.fields.into_iter().next().unwrap_or(FieldLabel {
                            key: key.clone(),
                            label: key.clone(),
                            label_local: None,
                        }),
                    }
                })
                .collect::<Vec<_>>()
        };
        AnswerResult {
            accepted: verdict.valid && check.is_some_and(|c| c.unasked.is_empty()),
            missing: check.map(|c| fields(&c.missing)).unwrap_or_default(),
            unasked: check.map(|c| fields(&c.unasked)).unwrap_or_default(),
            verdict,
        }
    }
}

/// A new counter key: 32 random bytes (its Ed25519 seed). Kept on the counter's device;
/// its public key ([`counter_public_key`]) is what the department registers.
pub fn new_counter_key(rng: &mut impl CryptoRngCore) -> Result<Zeroizing<Vec<u8>>, WebError> {
    let mut seed = Zeroizing::new(vec![0u8; 32]);
    rng.try_fill_bytes(seed.as_mut_slice())
        .map_err(|e| WebError::Internal(format!("the random source failed: {e}")))?;
    Ok(seed)
}

fn signing_key(seed: &[u8]) -> Result<SigningKey, WebError> {
    let seed: &[u8; 32] = seed
        .try_into()
        .map_err(|_| WebError::BadArgument("a counter key is 32 bytes".into()))?;
    Ok(SigningKey::from_bytes(seed))
}

/// The public key (64 hex digits) of the counter key `seed`, to give to the department
/// (`ecert-issuer register-counter --counter-key HEX`).
pub fn counter_public_key(seed: &[u8]) -> Result<String, WebError> {
    Ok(crypto::public_key(&signing_key(seed)?).to_hex())
}

/// A registration file (`.ecr`), read.
pub fn read_registration(bytes: &[u8]) -> Result<CounterRegistration, WebError> {
    CounterRegistration::from_bytes(bytes).map_err(WebError::NotARegistration)
}

/// Checks a registration file as `ecert-verify registration` does before installing it:
/// it registers the counter key `seed`, it was signed by its department's key that
/// `registry` (of ledger `chain_id`) lists, it is valid at `now`, and every field it lets
/// the counter ask for exists.
pub fn check_counter_registration(
    bytes: &[u8],
    seed: &[u8],
    registry: &Registry,
    chain_id: &ChainId,
    kinds: &KindRegistry,
    now: UnixTime,
) -> Result<RegistrationView, WebError> {
    let registration = read_registration(bytes)?;
    let ours = crypto::public_key(&signing_key(seed)?);
    let body = &registration.body;
    if body.counter_key != ours {
        return Err(WebError::OtherCounterKey {
            registered: body.counter_key.to_hex(),
            ours: ours.to_hex(),
        });
    }
    let department_name = check_registration(&registration, registry, chain_id, now)?;
    check_registered_fields(&body.may_ask, kinds)?;
    Ok(RegistrationView {
        name: body.name.clone(),
        name_local: body.name_local.clone(),
        role: body.role.clone(),
        department: body.department.to_string(),
        department_name,
        counter_key: ours.to_hex(),
        valid_from: body.valid_from.secs(),
        valid_until: body.valid_until.secs(),
        valid_until_date: day(body.valid_until),
        may_ask: body.may_ask.iter().map(|a| AskView::of(a, kinds)).collect(),
    })
}

/// Signs a request (`ECQ1:...`) with the counter key `seed` under `registration` (a
/// registration file's bytes): `asks` (1 to 8 kinds), `purpose` (1 to 200 bytes, trimmed),
/// a fresh nonce from `rng`, the time `now`. Nothing is checked against the registration
/// here ([`ecert_verifier::request::sign_request`]): check the result as a wallet will
/// with [`check_request_text`] before showing it.
pub fn sign_request_text(
    registration: &[u8],
    seed: &[u8],
    asks: &[AskInput],
    purpose: &str,
    now: UnixTime,
    rng: &mut impl CryptoRngCore,
) -> Result<String, WebError> {
    let registration = read_registration(registration)?;
    let key = signing_key(seed)?;
    if asks.is_empty() || asks.len() > MAX_ASKED_KINDS {
        return Err(WebError::BadArgument(format!(
            "a request asks about 1 to {MAX_ASKED_KINDS} kinds"
        )));
    }
    let purpose = purpose.trim();
    if purpose.is_empty() || purpose.len() > MAX_TEXT {
        return Err(WebError::BadArgument(format!(
            "a request's purpose is 1 to {MAX_TEXT} bytes of text"
        )));
    }
    let asks = asks
        .iter()
        .map(|a| {
            let kind = KindId::new(&a.kind)
                .map_err(|e| WebError::BadArgument(format!("kind {:?}: {e}", a.kind)))?;
            Ok(FieldsAsked {
                kind,
                fields: a.fields.clone(),
            })
        })
        .collect::<Result<Vec<_>, WebError>>()?;
    let mut nonce = [0u8; REQUEST_NONCE_BYTES];
    rng.try_fill_bytes(&mut nonce)
        .map_err(|e| WebError::Internal(format!("the random source failed: {e}")))?;
    let nonce = Nonce::new(nonce.to_vec()).map_err(|e| WebError::Internal(e.to_string()))?;
    let request = sign_request(
        &key,
        RequestBody {
            registration,
            asks,
            purpose: purpose.to_owned(),
            nonce,
            time: now,
        },
    )
    .map_err(|e| WebError::BadArgument(format!("the request cannot be made: {e}")))?;
    request
        .to_qr_string()
        .map_err(|e| WebError::BadArgument(format!("the request cannot be made: {e}")))
}

/// Reads a request's text (`ECQ1:...`) and checks it as a wallet does
/// ([`ecert_verifier::request::check_request`]) against `registry` of ledger `chain_id`.
pub fn check_request_text(
    text: &str,
    registry: &Registry,
    chain_id: &ChainId,
    kinds: &KindRegistry,
    now: UnixTime,
) -> Result<CheckedRequest, WebError> {
    let request = read_request(text)?;
    Ok(check_request(
        &request,
        registry,
        chain_id,
        kinds,
        now,
        &RequestPolicy::default(),
    )?)
}

/// A request's text, read (not checked).
pub fn read_request(text: &str) -> Result<PresentationRequest, WebError> {
    PresentationRequest::from_qr_string(text.trim())
        .map_err(|e| WebError::Request(RequestError::Malformed(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    #[test]
    fn counter_keys_and_unreadable_documents() {
        let seed = new_counter_key(&mut OsRng).unwrap();
        assert_eq!(seed.len(), 32);
        let public = counter_public_key(&seed).unwrap();
        assert_eq!(public.len(), 64);
        assert_eq!(counter_public_key(&seed).unwrap(), public);
        assert_eq!(
            counter_public_key(&[1, 2, 3]).unwrap_err().code(),
            "bad-argument"
        );
        assert_eq!(
            read_registration(b"junk").unwrap_err().code(),
            "not-a-registration"
        );
        assert_eq!(
            read_request("EC1R:ABC").unwrap_err().code(),
            "not-a-request"
        );
        let ask = AskInput {
            kind: "id-card".into(),
            fields: vec!["name".into()],
        };
        let err = sign_request_text(b"junk", &seed, &[ask], "check-in", UnixTime(1), &mut OsRng)
            .unwrap_err();
        assert_eq!(err.code(), "not-a-registration");
    }
}
