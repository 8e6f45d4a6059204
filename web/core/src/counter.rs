//! The counter: ledger data synced and checked against the trust anchor, QR codes
//! verified offline against it, revocation deltas, challenges. Every rule is
//! `ecert_verifier`'s, exactly as in `ecert-verify`.

use ecert_schemas::codec::{from_cbor_bounded, to_cbor};
use ecert_schemas::freshness::Freshness;
use ecert_schemas::ledger::{
    BlockHeader, Checkpoint, RevocationDelta, RevocationSnapshot, TrustBundle, TrustUpdate,
    ValidatorChange, ValidatorInfo, MAX_TRUST_BUNDLE_BYTES,
};
use ecert_schemas::{IssuerId, KindRegistry, Nonce, StatusIndex, UnixTime};
use ecert_verifier::anchor_file::{anchor_to_toml, parse_anchor};
use ecert_verifier::freshness::{verify_freshness, Fresh, HeldHeader};
use ecert_verifier::report::Outcome;
use ecert_verifier::request::{compare_answer, RequestError};
use ecert_verifier::{verify_presentation, verify_revocation_delta, Policy, TrustStore};
use rand_core::CryptoRngCore;

use crate::request::{self, AnswerResult, RegistrationView, RequestView};
use crate::views::{
    AnchorView, FreshnessView, PolicyInput, RevocationInfo, StoreInfo, VerifiedView, VerifyResult,
};
use crate::WebError;

/// Bytes of a counter's challenge: 16 hex digits, short enough to read aloud.
pub const CHALLENGE_BYTES: usize = 8;

/// A counter's verified ledger data: a trust bundle accepted against the trust anchor.
#[derive(Clone, Debug)]
pub struct Counter {
    store: TrustStore,
    kinds: KindRegistry,
}

impl Counter {
    /// Checks a trust bundle (a ledger node's `GET /v1/export`, or an export file) against
    /// the trust anchor file's text, as `ecert-verify sync` does. With `held_height` (the
    /// block of the data held now), a bundle of a lower block is refused
    /// ([`WebError::OlderData`]) unless `allow_older`.
    pub fn sync(
        bundle: &[u8],
        anchor_text: &str,
        held_height: Option<u64>,
        allow_older: bool,
    ) -> Result<Counter, WebError> {
        let anchor = parse_anchor(anchor_text)?;
        let kinds = crate::builtin_kinds()?;
        let bundle = TrustBundle::from_bytes(bundle).map_err(ecert_verifier::VerifyError::from)?;
        let store = TrustStore::from_bundle(bundle, &anchor, kinds.clone())?;
        if let Some(held) = held_height {
            let offered = store.header().height;
            if offered < held && !allow_older {
                return Err(WebError::OlderData { offered, held });
            }
        }
        Ok(Counter { store, kinds })
    }

    /// This data brought up to a node's newer certified header with only what changed
    /// (`GET /v1/updates?since=HEIGHT`, HEIGHT this data's block), checked against the
    /// trust anchor file's text as strictly as a full export
    /// ([`TrustStore::apply_update`]). This data is unchanged on error.
    pub fn update(&self, update: &[u8], anchor_text: &str) -> Result<Counter, WebError> {
        let anchor = parse_anchor(anchor_text)?;
        let update = TrustUpdate::from_bytes(update).map_err(ecert_verifier::VerifyError::from)?;
        Ok(Counter {
            store: self.store.apply_update(&update, &anchor)?,
            kinds: self.kinds.clone(),
        })
    }

    /// The data as a trust bundle, to keep between sessions (what a full export of its
    /// block gives, byte for byte); read back with [`Counter::sync`].
    pub fn to_bundle(&self) -> Result<Vec<u8>, WebError> {
        self.store
            .to_bundle()
            .to_bytes()
            .map_err(|e| WebError::Internal(format!("the ledger data: {e}")))
    }

    /// The verified store.
    pub fn store(&self) -> &TrustStore {
        &self.store
    }

    /// What the data is and how old it is at `now`.
    pub fn info(&self, now: UnixTime) -> StoreInfo {
        let age_secs = now.secs().saturating_sub(self.store.as_of().secs());
        StoreInfo {
            chain_id: self.store.chain_id().to_string(),
            height: self.store.header().height,
            time: self.store.as_of().secs(),
            block_time: self.store.header().time().secs(),
            vouched: self.store.freshness().map(|f| f.signed),
            age_secs,
            too_old: age_secs > Policy::default().max_revocation_age_secs,
            votes: self.store.vote_count(),
            validators: self.store.validators().len(),
            batches: self.store.anchor_count(),
            revoked: self.store.revoked_count(),
        }
    }

    /// Checks validators' freshness statements (a node's `GET /v1/freshness`) about the
    /// synced block, as `ecert-verify sync` does, and takes the time they vouch for as the
    /// data's "as of" time when it is newer ([`TrustStore::apply_freshness`]).
    pub fn apply_freshness(&mut self, bytes: &[u8]) -> Result<FreshnessView, WebError> {
        let freshness = Freshness::from_bytes(bytes).map_err(ecert_verifier::VerifyError::from)?;
        let fresh = self.store.apply_freshness(&freshness)?;
        Ok(FreshnessView::of(fresh, self.store.validators().len()))
    }

    /// Checks a counter registration file (`ecert-issuer register-counter`) for the counter
    /// key `seed` against this data's registry, at `now`, as `ecert-verify registration`
    /// does ([`request::check_counter_registration`]).
    pub fn check_registration(
        &self,
        bytes: &[u8],
        seed: &[u8],
        now: UnixTime,
    ) -> Result<RegistrationView, WebError> {
        request::check_counter_registration(
            bytes,
            seed,
            self.store.registry(),
            self.store.chain_id(),
            &self.kinds,
            now,
        )
    }

    /// Checks a request (`ECQ1:...`) exactly as a wallet will, against this data's
    /// registry: what the counter does before it shows its own request.
    pub fn check_request(&self, text: &str, now: UnixTime) -> Result<RequestView, WebError> {
        let checked = request::check_request_text(
            text,
            self.store.registry(),
            self.store.chain_id(),
            &self.kinds,
            now,
        )?;
        Ok(RequestView::of(&checked, &self.kinds))
    }

    /// Verifies a QR string as the answer to the request `request_text` (the counter's
    /// own, pending): its holder proof must carry the request's binding, and what it
    /// shows is compared with what was asked ([`compare_answer`]), as `ecert-verify verify
    /// --request` does. Any `expectedNonce` of `policy` is replaced by the binding.
    pub fn verify_answer(
        &self,
        qr: &str,
        request_text: &str,
        now: UnixTime,
        policy: &PolicyInput,
    ) -> Result<AnswerResult, WebError> {
        let asked = request::read_request(request_text)?;
        let binding = asked
            .binding()
            .map_err(|e| WebError::Request(RequestError::Malformed(e)))?;
        let policy = Policy {
            expected_nonce: Some(binding),
            ..policy_of(policy)?
        };
        let result = verify_presentation(qr, &self.store, now, &policy);
        let check = result
            .as_ref()
            .ok()
            .map(|verdict| compare_answer(verdict, &asked.body.asks));
        let verdict = Outcome::of(&result, &self.store, now, |c| {
            VerifiedView::of(c, &self.kinds)
        });
        Ok(AnswerResult::of(verdict, check.as_ref(), &self.kinds))
    }

    /// Verifies a QR string at `now` under `policy` (defaults for what it leaves out).
    /// An INVALID code is a result (`valid: false`, with the reason's code and words), not
    /// an error; only a malformed policy is an error.
    pub fn verify(
        &self,
        qr: &str,
        now: UnixTime,
        policy: &PolicyInput,
    ) -> Result<VerifyResult, WebError> {
        let policy = policy_of(policy)?;
        let result = verify_presentation(qr, &self.store, now, &policy);
        Ok(Outcome::of(&result, &self.store, now, |c| {
            VerifiedView::of(c, &self.kinds)
        }))
    }
}

/// The verifier's policy from JavaScript's, defaults filled in.
pub(crate) fn policy_of(input: &PolicyInput) -> Result<Policy, WebError> {
    let d = Policy::default();
    let expected_nonce = input
        .expected_nonce
        .as_deref()
        .map(|hex| {
            Nonce::from_hex(hex.trim()).map_err(|e| {
                WebError::BadArgument(format!("expectedNonce {hex:?} is not a challenge: {e}"))
            })
        })
        .transpose()?;
    Ok(Policy {
        max_revocation_age_secs: input
            .max_revocation_age_secs
            .unwrap_or(d.max_revocation_age_secs),
        holder_proof_max_age_secs: input
            .holder_proof_max_age_secs
            .unwrap_or(d.holder_proof_max_age_secs),
        max_clock_skew_secs: input.max_clock_skew_secs.unwrap_or(d.max_clock_skew_secs),
        expected_nonce,
    })
}

/// A fresh challenge for challenge mode, as `ecert-verify challenge` prints it (16
/// upper-case hex digits).
pub fn challenge(rng: &mut impl CryptoRngCore) -> Result<String, WebError> {
    let mut bytes = [0u8; CHALLENGE_BYTES];
    rng.try_fill_bytes(&mut bytes)
        .map_err(|e| WebError::Internal(format!("the random source failed: {e}")))?;
    let nonce = Nonce::new(bytes.to_vec()).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(nonce.to_hex())
}

/// A revocation state verified against the trust anchor: a ledger node's answer to
/// `GET /v1/revocations?since=H` applied to the state at `H`
/// ([`verify_revocation_delta`]). It keeps the certified checkpoint and validator set it
/// was checked against, so that a stored state ([`Revocations::to_bytes`]) is checked
/// again when it is read back.
#[derive(Clone, Debug)]
pub struct Revocations {
    header: BlockHeader,
    snapshot: RevocationSnapshot,
    checkpoint: Checkpoint,
    validators: Vec<ValidatorInfo>,
    /// The validator-set changes from genesis to the checkpoint.
    changes: Vec<ValidatorChange>,
    /// The newest freshness applied ([`Revocations::apply_freshness`]); not stored.
    fresh: Option<Fresh>,
}

/// The version of [`Revocations::to_bytes`] (3: with the validator-set changes from
/// genesis; 2: status lists in the compact coding and the Merkle revocation root of trust
/// bundle version 2, read as version 3 without changes; a state stored as version 1 is
/// refused, and the apps sync again from genesis).
const STORED_REVOCATIONS_VERSION: u8 = 3;

/// A revocation state as stored: `[3, snapshot, checkpoint, validators, changes]` (CBOR).
type StoredRevocations = (
    u8,
    RevocationSnapshot,
    Checkpoint,
    Vec<ValidatorInfo>,
    Vec<ValidatorChange>,
);

/// A state stored as version 2: `[2, snapshot, checkpoint, validators]`.
type StoredRevocationsV2 = (u8, RevocationSnapshot, Checkpoint, Vec<ValidatorInfo>);

impl Revocations {
    /// Checks `delta` against the trust anchor file's text, applied to `base` (the empty
    /// state at genesis when `None`, i.e. a delta `since=0`).
    pub fn from_delta(
        delta: &[u8],
        anchor_text: &str,
        base: Option<&Revocations>,
    ) -> Result<Revocations, WebError> {
        let anchor = parse_anchor(anchor_text)?;
        let delta =
            RevocationDelta::from_bytes(delta).map_err(ecert_verifier::VerifyError::from)?;
        let genesis = RevocationSnapshot {
            height: 0,
            lists: Vec::new(),
        };
        let base = base.map_or(&genesis, |b| &b.snapshot);
        let (header, snapshot) = verify_revocation_delta(base, &delta, &anchor)?;
        Ok(Revocations {
            header,
            snapshot,
            checkpoint: delta.checkpoint,
            validators: delta.validators,
            changes: delta.changes,
            fresh: None,
        })
    }

    /// The state, to keep between sessions (not secret: which certificates of the ledger
    /// are revoked, and the certified block it is as of). Read it back with
    /// [`Revocations::from_bytes`].
    pub fn to_bytes(&self) -> Result<Vec<u8>, WebError> {
        let stored: StoredRevocations = (
            STORED_REVOCATIONS_VERSION,
            self.snapshot.clone(),
            self.checkpoint.clone(),
            self.validators.clone(),
            self.changes.clone(),
        );
        to_cbor(&stored).map_err(|e| WebError::Internal(format!("the revocation state: {e}")))
    }

    /// A state stored by [`Revocations::to_bytes`], checked again against the trust anchor
    /// file's text exactly as a node's answer is: the stored status lists must add up to
    /// the revocation root of the header the stored checkpoint certifies (an empty delta
    /// from the stored state, [`verify_revocation_delta`]).
    pub fn from_bytes(bytes: &[u8], anchor_text: &str) -> Result<Revocations, WebError> {
        let anchor = parse_anchor(anchor_text)?;
        let what = "stored revocation state";
        let (version, snapshot, checkpoint, validators, changes): StoredRevocations =
            match from_cbor_bounded(what, bytes, MAX_TRUST_BUNDLE_BYTES) {
                Ok(stored) => stored,
                Err(e) => match from_cbor_bounded::<StoredRevocationsV2>(
                    what,
                    bytes,
                    MAX_TRUST_BUNDLE_BYTES,
                ) {
                    Ok((2, snapshot, checkpoint, validators)) => (
                        STORED_REVOCATIONS_VERSION,
                        snapshot,
                        checkpoint,
                        validators,
                        Vec::new(),
                    ),
                    _ => return Err(ecert_verifier::VerifyError::from(e).into()),
                },
            };
        if version != STORED_REVOCATIONS_VERSION {
            return Err(ecert_verifier::VerifyError::UnsupportedVersion {
                what: "stored revocation state",
                found: u64::from(version),
                supported: u64::from(STORED_REVOCATIONS_VERSION),
            }
            .into());
        }
        let delta = RevocationDelta {
            since: snapshot.height,
            entries: Vec::new(),
            checkpoint,
            validators,
            changes,
        };
        let (header, checked) = verify_revocation_delta(&snapshot, &delta, &anchor)?;
        if checked.height != snapshot.height {
            return Err(ecert_verifier::VerifyError::TrustDataMismatch {
                detail: format!(
                    "the stored revocations of block #{} come with the header of block #{}",
                    snapshot.height, checked.height
                ),
            }
            .into());
        }
        Ok(Revocations {
            header,
            snapshot: checked,
            checkpoint: delta.checkpoint,
            validators: delta.validators,
            changes: delta.changes,
            fresh: None,
        })
    }

    /// The certified header the state is as of.
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }

    /// The verified state.
    pub fn snapshot(&self) -> &RevocationSnapshot {
        &self.snapshot
    }

    /// The block it is as of, when it was current, and how many certificates are revoked.
    pub fn info(&self) -> RevocationInfo {
        let block_time = self.header.time();
        RevocationInfo {
            height: self.header.height,
            time: self
                .fresh
                .map_or(block_time, |f| f.as_of.max(block_time))
                .secs(),
            block_time: block_time.secs(),
            vouched: self.fresh.map(|f| f.signed),
            validators: self.validators.len(),
            revoked_count: self.snapshot.revoked_count(),
        }
    }

    /// Checks validators' freshness statements (a node's `GET /v1/freshness`) about this
    /// state's certified block, signed by the validator set that certified it
    /// ([`verify_freshness`]), and takes the time they vouch for when it is newer. On
    /// error the state is unchanged.
    pub fn apply_freshness(&mut self, bytes: &[u8]) -> Result<FreshnessView, WebError> {
        let freshness = Freshness::from_bytes(bytes).map_err(ecert_verifier::VerifyError::from)?;
        let held = HeldHeader::of_checkpoint(&self.header, &self.checkpoint);
        let fresh = verify_freshness(&freshness, &self.validators, held)?;
        if self.fresh.is_none_or(|old| fresh.as_of >= old.as_of) {
            self.fresh = Some(fresh);
        }
        Ok(FreshnessView::of(fresh, self.validators.len()))
    }

    /// Whether `issuer` revoked its certificate with status index `index`.
    pub fn is_revoked(&self, issuer: &str, index: u32) -> Result<bool, WebError> {
        let issuer = IssuerId::new(issuer)
            .map_err(|e| WebError::BadArgument(format!("issuer {issuer:?}: {e}")))?;
        Ok(self.snapshot.is_revoked(&issuer, StatusIndex(index)))
    }
}

/// A trust anchor file's text, read and written back in its canonical form (for the
/// apps to pin it after a paste, a file or a scan of its QR code).
pub fn anchor_info(text: &str) -> Result<AnchorView, WebError> {
    let anchor = parse_anchor(text)?;
    let hash = anchor.validators_hash.to_hex();
    let short_hash = format!(
        "{}…{}",
        hash.get(..4).unwrap_or_default(),
        hash.get(hash.len().saturating_sub(4)..).unwrap_or_default()
    );
    Ok(AnchorView {
        chain_id: anchor.chain_id.to_string(),
        text: anchor_to_toml(
            &anchor,
            &format!("trust anchor of ledger {}", anchor.chain_id),
        ),
        validators_hash: hash,
        short_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    const ANCHOR: &str = "chain_id = \"ecert-test\"\nvalidators_hash = \"0000000000000000000000000000000000000000000000000000000000000000\"\n";

    #[test]
    fn refusals_carry_the_verifiers_codes() {
        let code = |r: Result<Counter, WebError>| r.map(|_| ()).unwrap_err().code();
        assert_eq!(
            code(Counter::sync(b"junk", ANCHOR, None, false)),
            "malformed"
        );
        assert_eq!(
            code(Counter::sync(b"junk", "chain_id = 1", None, false)),
            "bad-anchor"
        );
        let err = Revocations::from_delta(b"", ANCHOR, None).unwrap_err();
        assert_eq!(err.code(), "malformed");
        let err = Revocations::from_bytes(b"\x84\x02", ANCHOR).unwrap_err();
        assert_eq!(err.code(), "malformed");
    }

    #[test]
    fn anchors_are_read_and_written_canonically() {
        let view = anchor_info(&format!("# pasted\n  {ANCHOR}")).unwrap();
        assert_eq!(view.chain_id, "ecert-test");
        assert_eq!(view.validators_hash, "0".repeat(64));
        assert_eq!(view.short_hash, "0000…0000");
        assert_eq!(anchor_info(&view.text).unwrap(), view);
        for bad in ["", "chain_id = \"x\"", "hello"] {
            assert_eq!(anchor_info(bad).unwrap_err().code(), "bad-anchor");
        }
    }

    #[test]
    fn policies_and_challenges() {
        assert_eq!(
            policy_of(&PolicyInput::default()).unwrap(),
            Policy::default()
        );
        let p = policy_of(&PolicyInput {
            holder_proof_max_age_secs: Some(10),
            expected_nonce: Some(" 3f9a0c11b2d47e85 ".into()),
            ..PolicyInput::default()
        })
        .unwrap();
        assert_eq!(p.holder_proof_max_age_secs, 10);
        assert_eq!(p.expected_nonce.unwrap().to_hex(), "3F9A0C11B2D47E85");
        let bad = PolicyInput {
            expected_nonce: Some("zz".into()),
            ..PolicyInput::default()
        };
        assert_eq!(policy_of(&bad).unwrap_err().code(), "bad-argument");
        let c = challenge(&mut OsRng).unwrap();
        assert_eq!(c.len(), 16);
        assert!(c
            .chars()
            .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_lowercase()));
        assert_ne!(c, challenge(&mut OsRng).unwrap());
    }
}
