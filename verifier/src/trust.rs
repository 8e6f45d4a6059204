//! The counter's trust store: what it synced, checked once against a certified header.
//!
//! A [`TrustStore`] can only be built by [`TrustStore::from_bundle`], which checks the
//! bundle against the counter's [`TrustAnchor`] (the chain id and validator set it was
//! configured with from the ledger's genesis), verifies the checkpoint's quorum, and checks
//! that the registry, the whole anchor log and the revocation state are exactly what the
//! certified header commits to. The node a counter synced from is never trusted.

use std::collections::BTreeMap;

use ecert_schemas::freshness::Freshness;
use ecert_schemas::ledger::{
    BatchRecord, BlockHeader, Checkpoint, IssuerKeyRecord, IssuerRecord, Registry,
    RevocationSnapshot, TrustBundle, ValidatorChange, ValidatorInfo, TRUST_BUNDLE_VERSION,
};
use ecert_schemas::{
    ChainId, Hash32, IssuerId, KeyId, Kind, KindId, KindRegistry, StatusIndex, UnixTime,
};
use ed25519_dalek::VerifyingKey;

use crate::freshness::{verify_freshness, Fresh, HeldHeader};
use crate::merkle::Frontier;
use crate::validator_chain::verify_checkpoint_from_anchor;
use crate::{commit, crypto, VerifyError};

mod update;

/// What a counter trusts before it syncs anything: the ledger's chain id and the hash of
/// its validator set, taken from the genesis file it was configured with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The ledger.
    pub chain_id: ChainId,
    /// [`commit::validators_hash`] of the validator set.
    pub validators_hash: Hash32,
}

impl TrustAnchor {
    /// The anchor for a chain and its validator set.
    pub fn new(
        chain_id: ChainId,
        validators: &[ValidatorInfo],
    ) -> Result<TrustAnchor, VerifyError> {
        Ok(TrustAnchor {
            chain_id,
            validators_hash: commit::validators_hash(validators)?,
        })
    }
}

/// A verified snapshot of the ledger, as of one certified header.
#[derive(Clone, Debug)]
pub struct TrustStore {
    chain_id: ChainId,
    validators: Vec<ValidatorInfo>,
    header: BlockHeader,
    header_hash: Hash32,
    checkpoint: Checkpoint,
    fresh: Option<Fresh>,
    registry: Registry,
    kinds: KindRegistry,
    anchors: Vec<BatchRecord>,
    /// The anchor log's right edge, to extend it with an update's records.
    anchor_frontier: Frontier,
    revocations: RevocationSnapshot,
    /// The validator-set changes from genesis to the header.
    changes: Vec<ValidatorChange>,
    issuer_keys: IssuerKeys,
}

/// Every registered issuer key that decodes, by issuer and key id.
type IssuerKeys = BTreeMap<(IssuerId, KeyId), VerifyingKey>;

impl TrustStore {
    /// Checks a synced bundle against the counter's trust anchor and its certified
    /// checkpoint, and keeps it.
    ///
    /// `kinds` are the kind definitions this counter has; a kind is used only when its
    /// definition's hash matches the ledger's registry.
    pub fn from_bundle(
        bundle: TrustBundle,
        anchor: &TrustAnchor,
        kinds: KindRegistry,
    ) -> Result<TrustStore, VerifyError> {
        let mismatch = |detail: String| VerifyError::TrustDataMismatch { detail };
        if bundle.chain_id != anchor.chain_id {
            return Err(mismatch(format!(
                "the data is for ledger {}, this counter trusts ledger {}",
                bundle.chain_id, anchor.chain_id
            )));
        }
        let header = verify_checkpoint_from_anchor(
            &bundle.checkpoint,
            &bundle.validators,
            &bundle.changes,
            anchor,
            "data",
        )?;
        if header.chain_id != bundle.chain_id {
            return Err(mismatch(format!(
                "the header is for chain {}, the bundle for {}",
                header.chain_id, bundle.chain_id
            )));
        }
        if commit::registry_root(&bundle.registry)? != header.registry_root {
            return Err(mismatch("issuer registry".into()));
        }
        let mut anchor_frontier = Frontier::new();
        for record in &bundle.anchors {
            anchor_frontier.push(commit::anchor_leaf(record)?);
        }
        if bundle.anchors.len() as u64 != header.anchor_count
            || anchor_frontier.root() != header.anchors_root
        {
            return Err(mismatch("anchor log".into()));
        }
        if bundle.revocations.height != header.height
            || commit::revocation_root(&bundle.revocations.lists)? != header.revocation_root
        {
            return Err(mismatch("revocation state".into()));
        }
        let issuer_keys = issuer_keys(&bundle.registry)?;
        Ok(TrustStore {
            chain_id: bundle.chain_id,
            validators: bundle.validators,
            header,
            header_hash: commit::header_hash(&bundle.checkpoint.header),
            checkpoint: bundle.checkpoint,
            fresh: None,
            registry: bundle.registry,
            kinds,
            anchors: bundle.anchors,
            anchor_frontier,
            revocations: bundle.revocations,
            changes: bundle.changes,
            issuer_keys,
        })
    }

    /// The bundle this store holds: what a full sync of its certified header gives (to
    /// keep on disk after an incremental update, [`TrustStore::apply_update`]).
    pub fn to_bundle(&self) -> TrustBundle {
        TrustBundle {
            version: TRUST_BUNDLE_VERSION,
            chain_id: self.chain_id.clone(),
            validators: self.validators.clone(),
            checkpoint: self.checkpoint.clone(),
            registry: self.registry.clone(),
            anchors: self.anchors.clone(),
            revocations: self.revocations.clone(),
            changes: self.changes.clone(),
        }
    }

    /// The trust anchor this store follows from: its chain and the genesis validator set
    /// (the set before its first validator-set change, or its set when there was none).
    pub fn anchor(&self) -> Result<TrustAnchor, VerifyError> {
        let genesis_set = self
            .changes
            .first()
            .map_or(self.validators.as_slice(), |c| c.previous.as_slice());
        TrustAnchor::new(self.chain_id.clone(), genesis_set)
    }

    /// The validator-set changes from genesis to the store's header, in ledger order.
    pub fn validator_changes(&self) -> &[ValidatorChange] {
        &self.changes
    }

    /// The ledger this store is for.
    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    /// The certified header the store is as of.
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }

    /// How many validators signed the certified header.
    pub fn vote_count(&self) -> usize {
        self.checkpoint.votes.len()
    }

    /// How many certificates are revoked as of the header, all issuers together.
    pub fn revoked_count(&self) -> u64 {
        self.revocations.revoked_count()
    }

    /// When the synced data was current: the certified header's time, or the newer time
    /// a quorum of validators vouched for with [`TrustStore::apply_freshness`].
    pub fn as_of(&self) -> UnixTime {
        let header_time = self.header.time();
        self.fresh.map_or(header_time, |f| f.as_of.max(header_time))
    }

    /// SHA-256 of the certified header's encoding.
    pub fn header_hash(&self) -> Hash32 {
        self.header_hash
    }

    /// The freshness applied, if any.
    pub fn freshness(&self) -> Option<Fresh> {
        self.fresh
    }

    /// Checks validators' freshness statements about this store's certified header
    /// ([`verify_freshness`]) and, if they hold, takes the time they vouch for as the
    /// data's "as of" time when it is newer. On error the store is unchanged.
    pub fn apply_freshness(&mut self, freshness: &Freshness) -> Result<Fresh, VerifyError> {
        let fresh = verify_freshness(
            freshness,
            &self.validators,
            HeldHeader {
                chain_id: &self.chain_id,
                height: self.header.height,
                hash: self.header_hash,
            },
        )?;
        if self.fresh.is_none_or(|old| fresh.as_of >= old.as_of) {
            self.fresh = Some(fresh);
        }
        Ok(fresh)
    }

    /// The validator set.
    pub fn validators(&self) -> &[ValidatorInfo] {
        &self.validators
    }

    /// The issuer registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Number of anchored batches known.
    pub fn anchor_count(&self) -> u64 {
        self.anchors.len() as u64
    }

    /// The anchored batch at `seq`.
    pub fn batch(&self, seq: u64) -> Option<&BatchRecord> {
        usize::try_from(seq).ok().and_then(|i| self.anchors.get(i))
    }

    /// The kind `id`, if this counter has its definition and it matches the ledger's.
    pub fn kind(&self, id: &KindId) -> Result<&Kind, VerifyError> {
        let local = self
            .kinds
            .get(id)
            .map_err(|_| VerifyError::UnknownKind(id.clone()))?;
        let on_ledger = self.registry.kinds.iter().find(|k| &k.kind == id);
        match on_ledger {
            Some(record) if record.content_hash == local.content_hash => Ok(local),
            _ => Err(VerifyError::UnknownKind(id.clone())),
        }
    }

    /// The registered issuer `id`.
    pub fn issuer(&self, id: &IssuerId) -> Result<&IssuerRecord, VerifyError> {
        self.registry
            .issuer(id)
            .ok_or_else(|| VerifyError::UnknownIssuer(id.clone()))
    }

    /// An issuer's key record and its decoded key.
    pub fn issuer_key<'a>(
        &'a self,
        issuer: &'a IssuerRecord,
        key_id: KeyId,
    ) -> Result<(&'a IssuerKeyRecord, &'a VerifyingKey), VerifyError> {
        let unknown = || VerifyError::UnknownIssuerKey {
            issuer: issuer.issuer.clone(),
            key_id,
        };
        let record = issuer
            .keys
            .iter()
            .find(|k| k.key_id == key_id)
            .ok_or_else(unknown)?;
        let key = self
            .issuer_keys
            .get(&(issuer.issuer.clone(), key_id))
            .ok_or_else(unknown)?;
        Ok((record, key))
    }

    /// Whether the certificate at `index` of `issuer` is revoked as of the header.
    pub fn is_revoked(&self, issuer: &IssuerId, index: StatusIndex) -> bool {
        self.revocations.is_revoked(issuer, index)
    }
}

/// The keys of `registry`'s issuers, each checked to have the id of its key and to be
/// listed once; a key that does not decode is left out (it cannot verify anything).
fn issuer_keys(registry: &Registry) -> Result<IssuerKeys, VerifyError> {
    let mut keys = BTreeMap::new();
    for issuer in &registry.issuers {
        for key in &issuer.keys {
            if KeyId::of(&key.key) != key.key_id
                || keys.contains_key(&(issuer.issuer.clone(), key.key_id))
            {
                return Err(VerifyError::TrustDataMismatch {
                    detail: format!(
                        "issuer {} has a key whose id is wrong or repeated",
                        issuer.issuer
                    ),
                });
            }
            if let Some(vk) = crypto::parse_public_key(&key.key) {
                keys.insert((issuer.issuer.clone(), key.key_id), vk);
            }
        }
    }
    Ok(keys)
}
