//! Counters that ask: the checks a wallet makes of a counter's request before it shows
//! anything, the check a counter makes of the answer, and the signing of both documents.
//!
//! A request is good when its counter's registration was signed by a department's issuer
//! key that the ledger's registry lists and that was valid when it signed, the
//! registration is valid now and names this ledger, the counter's key signed the request
//! recently, and everything asked for was registered (kinds and fields the counter may
//! ask for, and that exist). What a wallet may then show also depends on each kind's
//! audience (`Kind::audience_admits`).

use std::collections::BTreeSet;

use ecert_schemas::ledger::Registry;
use ecert_schemas::request::{
    CounterRegistration, CounterRegistrationBody, FieldsAsked, PresentationRequest, RequestBody,
    REQUEST_VERSION,
};
use ecert_schemas::{
    ChainId, IssuerId, KeyId, KindId, KindRegistry, Nonce, PublicKeyBytes, SchemaError, UnixTime,
};
use ed25519_dalek::SigningKey;
use thiserror::Error;

use crate::crypto::{self, SigningContext};
use crate::presentation::Verdict;

/// Why a wallet does not answer a request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// The request cannot be read.
    #[error("the request is unreadable: {0}")]
    Malformed(#[from] SchemaError),
    /// The registration is for another ledger.
    #[error("the counter is registered on ledger {found}, not on this one ({expected})")]
    OtherLedger {
        /// The registration's ledger.
        found: ChainId,
        /// The wallet's ledger.
        expected: ChainId,
    },
    /// The registering department is not in the registry.
    #[error("the counter's registration names {0}, which is not a department on the ledger")]
    UnknownDepartment(IssuerId),
    /// The department has no such key, or it was not valid when the registration began.
    #[error("the counter's registration was not signed with a valid key of {department}")]
    UnknownDepartmentKey {
        /// The department.
        department: IssuerId,
    },
    /// The department's signature over the registration does not verify.
    #[error("the counter's registration is forged: {department}'s signature does not verify")]
    BadRegistrationSignature {
        /// The department it names.
        department: IssuerId,
    },
    /// The registration is not valid now.
    #[error("the counter's registration is valid from {valid_from} until {valid_until}, not now ({now})")]
    RegistrationNotValid {
        /// Its start.
        valid_from: UnixTime,
        /// Its end.
        valid_until: UnixTime,
        /// Now.
        now: UnixTime,
    },
    /// The counter's signature over the request does not verify.
    #[error("the request was not signed by the registered counter")]
    BadRequestSignature,
    /// The request is too old or from the future.
    #[error("the request was made at {made_at}, outside the accepted window (now {now}): ask the counter for a new one")]
    Stale {
        /// When the counter made it.
        made_at: UnixTime,
        /// Now.
        now: UnixTime,
    },
    /// The request asks for something its registration does not allow, or that does not
    /// exist.
    #[error("the counter asks for {kind} field {field:?}, which {why}")]
    NotAllowed {
        /// The kind.
        kind: KindId,
        /// The field key.
        field: String,
        /// Why it may not.
        why: &'static str,
    },
}

/// How old a request a wallet answers, and how far ahead a counter's clock may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestPolicy {
    /// Oldest request answered, in seconds.
    pub max_age_secs: u64,
    /// How far a counter's clock may run ahead of the wallet's, in seconds.
    pub max_clock_skew_secs: u64,
}

impl Default for RequestPolicy {
    /// Ten minutes, and 30 seconds of skew.
    fn default() -> RequestPolicy {
        RequestPolicy {
            max_age_secs: 600,
            max_clock_skew_secs: 30,
        }
    }
}

/// A request that passed every check: who asks, what, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedRequest {
    /// The counter's name.
    pub counter: String,
    /// Its name in the local language.
    pub counter_local: Option<String>,
    /// Its role (`employer`, `office`, ...).
    pub role: String,
    /// The department that registered it.
    pub department: IssuerId,
    /// That department's name in the registry.
    pub department_name: String,
    /// What it asks for, by kind.
    pub asks: Vec<FieldsAsked>,
    /// Why.
    pub purpose: String,
    /// The nonce the answer must carry ([`PresentationRequest::binding`]).
    pub binding: Nonce,
}

/// Checks `request` against the ledger's `registry` (of ledger `chain_id`) and the kinds
/// the wallet knows, at `now`.
pub fn check_request(
    request: &PresentationRequest,
    registry: &Registry,
    chain_id: &ChainId,
    kinds: &KindRegistry,
    now: UnixTime,
    policy: &RequestPolicy,
) -> Result<CheckedRequest, RequestError> {
    let body = &request.body;
    let registration = &body.registration.body;
    let department_name = check_registration(&body.registration, registry, chain_id, now)?;
    let counter_key = crypto::parse_public_key(&registration.counter_key)
        .ok_or(RequestError::BadRequestSignature)?;
    if request.version != REQUEST_VERSION
        || !crypto::verify(
            &counter_key,
            SigningContext::Request,
            &body.to_bytes()?,
            &request.signature,
        )
    {
        return Err(RequestError::BadRequestSignature);
    }
    let too_old = now.secs().saturating_sub(body.time.secs()) > policy.max_age_secs;
    let from_future = body.time.secs() > now.secs().saturating_add(policy.max_clock_skew_secs);
    if too_old || from_future {
        return Err(RequestError::Stale {
            made_at: body.time,
            now,
        });
    }
    check_asks(&body.asks, &registration.may_ask, kinds)?;
    Ok(CheckedRequest {
        counter: registration.name.clone(),
        counter_local: registration.name_local.clone(),
        role: registration.role.clone(),
        department: registration.department.clone(),
        department_name,
        asks: body.asks.clone(),
        purpose: body.purpose.clone(),
        binding: request.binding()?,
    })
}

/// Checks a counter's registration: it names ledger `chain_id`, was signed by a key of
/// its department that `registry` lists and that was valid when the registration began,
/// and is valid at `now`. Returns the department's name in the registry. (What the
/// registration lets the counter ask for is checked against the kinds by
/// [`check_registered_fields`].)
pub fn check_registration(
    registration: &CounterRegistration,
    registry: &Registry,
    chain_id: &ChainId,
    now: UnixTime,
) -> Result<String, RequestError> {
    let signed = registration;
    let registration = &signed.body;
    if &registration.chain_id != chain_id {
        return Err(RequestError::OtherLedger {
            found: registration.chain_id.clone(),
            expected: chain_id.clone(),
        });
    }
    let department = registry
        .issuer(&registration.department)
        .ok_or_else(|| RequestError::UnknownDepartment(registration.department.clone()))?;
    let unknown_key = || RequestError::UnknownDepartmentKey {
        department: registration.department.clone(),
    };
    let key_record = department
        .keys
        .iter()
        .find(|k| k.key_id == registration.key_id)
        .ok_or_else(unknown_key)?;
    let signed_at = registration.valid_from;
    let key_valid = signed_at >= key_record.valid_from
        && key_record.valid_until.is_none_or(|until| signed_at < until);
    let key = crypto::parse_public_key(&key_record.key).filter(|_| key_valid);
    let key = key.ok_or_else(unknown_key)?;
    if !crypto::verify(
        &key,
        SigningContext::CounterRegistration,
        &registration.to_bytes()?,
        &signed.signature,
    ) {
        return Err(RequestError::BadRegistrationSignature {
            department: registration.department.clone(),
        });
    }
    if now < registration.valid_from || now >= registration.valid_until {
        return Err(RequestError::RegistrationNotValid {
            valid_from: registration.valid_from,
            valid_until: registration.valid_until,
            now,
        });
    }
    Ok(department.name.clone())
}

/// Every field a registration lets its counter ask for exists in its kind, and no kind is
/// named twice (what a department checks before it signs, and a counter before it
/// installs the registration).
pub fn check_registered_fields(
    may_ask: &[FieldsAsked],
    kinds: &KindRegistry,
) -> Result<(), RequestError> {
    check_asks(may_ask, may_ask, kinds)
}

/// Every field asked for exists in its kind and was registered.
fn check_asks(
    asks: &[FieldsAsked],
    may_ask: &[FieldsAsked],
    kinds: &KindRegistry,
) -> Result<(), RequestError> {
    let mut kinds_seen = BTreeSet::new();
    for ask in asks {
        let refuse = |field: &str, why| RequestError::NotAllowed {
            kind: ask.kind.clone(),
            field: field.to_owned(),
            why,
        };
        if !kinds_seen.insert(&ask.kind) {
            return Err(refuse("", "is asked twice"));
        }
        let kind = kinds
            .get(&ask.kind)
            .map_err(|_| refuse("", "is a kind this wallet does not know"))?;
        let registered = may_ask.iter().find(|m| m.kind == ask.kind);
        for field in &ask.fields {
            if kind.field_by_key(field).is_none() {
                return Err(refuse(field, "the kind does not have"));
            }
            if !registered.is_some_and(|m| m.fields.contains(field)) {
                return Err(refuse(
                    field,
                    "the counter's registration does not let it ask for",
                ));
            }
        }
    }
    Ok(())
}

/// Signs a counter registration with a department's issuer key (`key_id` its id).
pub fn sign_registration(
    department_key: &SigningKey,
    body: CounterRegistrationBody,
) -> Result<CounterRegistration, SchemaError> {
    let signature = crypto::sign(
        department_key,
        SigningContext::CounterRegistration,
        &body.to_bytes()?,
    );
    Ok(CounterRegistration { body, signature })
}

/// Signs a request with the counter's registered key.
pub fn sign_request(
    counter_key: &SigningKey,
    body: RequestBody,
) -> Result<PresentationRequest, SchemaError> {
    let signature = crypto::sign(counter_key, SigningContext::Request, &body.to_bytes()?);
    Ok(PresentationRequest {
        version: REQUEST_VERSION,
        body,
        signature,
    })
}

/// What an answer holds beyond what was asked, and what it left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnswerCheck {
    /// Fields asked for and not shown (the citizen declined, or does not hold the kind).
    pub missing: Vec<(KindId, String)>,
    /// Fields shown without being asked for.
    pub unasked: Vec<(KindId, String)>,
}

/// Compares a verified answer (whose nonce the counter required to be the request's
/// [`PresentationRequest::binding`]) with what the request asked.
pub fn compare_answer(verdict: &Verdict, asks: &[FieldsAsked]) -> AnswerCheck {
    let mut check = AnswerCheck::default();
    for ask in asks {
        let shown = verdict.certificates.iter().find(|c| c.kind == ask.kind);
        for field in &ask.fields {
            if !shown.is_some_and(|c| c.disclosed.iter().any(|d| &d.key == field)) {
                check.missing.push((ask.kind.clone(), field.clone()));
            }
        }
    }
    for cert in &verdict.certificates {
        let asked = asks.iter().find(|a| a.kind == cert.kind);
        for d in &cert.disclosed {
            if !asked.is_some_and(|a| a.fields.contains(&d.key)) {
                check.unasked.push((cert.kind.clone(), d.key.clone()));
            }
        }
    }
    check
}

/// The key id of a department key (what a registration names).
pub fn department_key_id(key: &PublicKeyBytes) -> KeyId {
    KeyId::of(key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use ecert_schemas::ledger::{IssuerKeyRecord, IssuerRecord};

    struct Setup {
        department: SigningKey,
        counter: SigningKey,
        registry: Registry,
        chain: ChainId,
        kinds: KindRegistry,
    }

    fn setup() -> Setup {
        let department = SigningKey::from_bytes(&[7; 32]);
        let public = crypto::public_key(&department);
        let registry = Registry {
            issuers: vec![IssuerRecord {
                issuer: IssuerId::new("public-security").unwrap(),
                name: "Public Security Bureau".into(),
                kinds: vec![],
                keys: vec![IssuerKeyRecord {
                    key_id: KeyId::of(&public),
                    key: public,
                    valid_from: UnixTime(100),
                    valid_until: None,
                }],
            }],
            kinds: vec![],
            governance_seq: 0,
        };
        Setup {
            department,
            counter: SigningKey::from_bytes(&[8; 32]),
            registry,
            chain: ChainId::new("ecert-test").unwrap(),
            kinds: KindRegistry::builtin().unwrap(),
        }
    }

    fn asked(kind: &str, fields: &[&str]) -> FieldsAsked {
        FieldsAsked {
            kind: KindId::new(kind).unwrap(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    fn request(s: &Setup, asks: Vec<FieldsAsked>, time: u64) -> PresentationRequest {
        let registration = sign_registration(
            &s.department,
            CounterRegistrationBody {
                chain_id: s.chain.clone(),
                department: IssuerId::new("public-security").unwrap(),
                key_id: KeyId::of(&crypto::public_key(&s.department)),
                counter_key: crypto::public_key(&s.counter),
                name: "Jinjiang Hotel front desk".into(),
                name_local: Some("锦江饭店前台".into()),
                role: "hotel".into(),
                may_ask: vec![asked("id-card", &["name", "id_number", "age_over_18"])],
                valid_from: UnixTime(1_000),
                valid_until: UnixTime(1_000_000),
            },
        )
        .unwrap();
        sign_request(
            &s.counter,
            RequestBody {
                registration,
                asks,
                purpose: "check-in".into(),
                nonce: Nonce::new(vec![1; 16]).unwrap(),
                time: UnixTime(time),
            },
        )
        .unwrap()
    }

    #[test]
    fn a_registered_counters_request_is_checked_and_bound() {
        let s = setup();
        let r = request(&s, vec![asked("id-card", &["name", "age_over_18"])], 5_000);
        let bytes = PresentationRequest::from_qr_string(&r.to_qr_string().unwrap()).unwrap();
        assert_eq!(bytes, r);
        let ok = check_request(
            &r,
            &s.registry,
            &s.chain,
            &s.kinds,
            UnixTime(5_010),
            &RequestPolicy::default(),
        )
        .unwrap();
        assert_eq!(ok.role, "hotel");
        assert_eq!(ok.department_name, "Public Security Bureau");
        assert_eq!(ok.binding, r.binding().unwrap());
        let other = request(&s, vec![asked("id-card", &["name"])], 5_000);
        assert_ne!(other.binding().unwrap(), ok.binding);
    }

    #[test]
    fn bent_requests_are_refused() {
        let s = setup();
        let policy = RequestPolicy::default();
        let now = UnixTime(5_010);
        let check = |r: &PresentationRequest| {
            check_request(r, &s.registry, &s.chain, &s.kinds, now, &policy)
        };
        // More than registered.
        let greedy = request(&s, vec![asked("id-card", &["address"])], 5_000);
        assert!(matches!(
            check(&greedy),
            Err(RequestError::NotAllowed { .. })
        ));
        // A field no kind has.
        let odd = request(&s, vec![asked("id-card", &["shoe_size"])], 5_000);
        assert!(matches!(check(&odd), Err(RequestError::NotAllowed { .. })));
        // Old.
        let old = request(&s, vec![asked("id-card", &["name"])], 1_000);
        assert!(matches!(check(&old), Err(RequestError::Stale { .. })));
        // The counter widened its own registration.
        let mut widened = request(&s, vec![asked("id-card", &["address"])], 5_000);
        widened.body.registration.body.may_ask = vec![asked("id-card", &["address"])];
        let resigned = sign_request(&s.counter, widened.body.clone()).unwrap();
        assert!(matches!(
            check(&resigned),
            Err(RequestError::BadRegistrationSignature { .. })
        ));
        // Another counter's key signs a registered counter's request.
        let mut stolen = request(&s, vec![asked("id-card", &["name"])], 5_000);
        stolen.signature = crypto::sign(
            &SigningKey::from_bytes(&[9; 32]),
            SigningContext::Request,
            &stolen.body.to_bytes().unwrap(),
        );
        assert!(matches!(
            check(&stolen),
            Err(RequestError::BadRequestSignature)
        ));
        // Another ledger.
        let r = request(&s, vec![asked("id-card", &["name"])], 5_000);
        let elsewhere = ChainId::new("ecert-other").unwrap();
        assert!(matches!(
            check_request(&r, &s.registry, &elsewhere, &s.kinds, now, &policy),
            Err(RequestError::OtherLedger { .. })
        ));
        // After the registration ended.
        assert!(matches!(
            check_request(
                &r,
                &s.registry,
                &s.chain,
                &s.kinds,
                UnixTime(2_000_000),
                &RequestPolicy {
                    max_age_secs: u64::MAX,
                    ..policy
                }
            ),
            Err(RequestError::RegistrationNotValid { .. })
        ));
    }

    #[test]
    fn a_registration_is_checked_on_its_own() {
        let s = setup();
        let r = request(&s, vec![asked("id-card", &["name"])], 5_000);
        let registration = &r.body.registration;
        let now = UnixTime(5_000);
        assert_eq!(
            check_registration(registration, &s.registry, &s.chain, now).unwrap(),
            "Public Security Bureau"
        );
        check_registered_fields(&registration.body.may_ask, &s.kinds).unwrap();
        let mut altered = registration.clone();
        altered.body.role = "office".into();
        assert!(matches!(
            check_registration(&altered, &s.registry, &s.chain, now),
            Err(RequestError::BadRegistrationSignature { .. })
        ));
        assert!(matches!(
            check_registered_fields(&[asked("id-card", &["shoe_size"])], &s.kinds),
            Err(RequestError::NotAllowed { .. })
        ));
    }
}
