//! What the departments' ledger records and certifies: transactions, the anchor log,
//! block headers, certified checkpoints, the issuer registry, revocation state, and the
//! trust bundle a counter syncs.
//!
//! The ledger holds hashes, counts and indexes only: never a citizen's data.

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::codec::{cbor_array, from_cbor_versioned, to_cbor, visit, wire_bytes};
use crate::status_code::{StatusCode, StatusCodeError};
use crate::{
    ChainId, Hash32, IssuerId, KeyId, KindId, PublicKeyBytes, SchemaError, SignatureBytes,
    StatusIndex, UnixTime,
};

/// Version of the trust bundle format (2: status lists in the compact coding of
/// [`crate::status_code`], and the header's revocation root a Merkle tree over them).
pub const TRUST_BUNDLE_VERSION: u64 = 2;
/// Largest trust bundle accepted (256 MiB: millions of anchored batches).
pub const MAX_TRUST_BUNDLE_BYTES: usize = 256 * 1024 * 1024;
/// Most kinds one batch may declare.
pub const MAX_BATCH_KINDS: usize = 16;
/// Highest status index an issuer may use: 2^31 - 1. One-time copies (format 2) use one
/// index per copy, so a department issuing a province's ID cards at 30 copies each needs
/// over a billion; one issuer's status list is at most 256 MiB even with everything
/// revoked.
pub const MAX_STATUS_INDEX: u32 = (1 << 31) - 1;
/// Most status indexes one revocation transaction may carry.
pub const MAX_REVOCATIONS_PER_TX: usize = 10_000;

cbor_array! {
    /// What an issuer signs to anchor a batch: the RFC 6962 root over the certificates it
    /// issued in one interval, how many there are, and which kinds they are.
    pub struct AnchorBatchBody {
        /// The ledger this is meant for (no replay across ledgers).
        pub chain_id: ChainId,
        /// The issuing department.
        pub issuer: IssuerId,
        /// Which of its keys signed.
        pub key_id: KeyId,
        /// The kinds of the certificates in the batch, sorted, without repeats.
        pub kinds: Vec<KindId>,
        /// RFC 6962 Merkle root over the certificates' exact bytes.
        pub batch_root: Hash32,
        /// Number of certificates in the batch.
        pub count: u64,
    }
}

cbor_array! {
    /// An anchor-batch transaction: the body and the issuer's signature over it
    /// (context `ecert/v1/anchor-batch`).
    pub struct AnchorBatchTx {
        /// What is signed.
        pub body: AnchorBatchBody,
        /// The issuer's signature.
        pub signature: SignatureBytes,
    }
}

/// Why a certificate was revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RevocationReason {
    /// No reason given.
    Unspecified,
    /// Replaced by a newer certificate.
    Superseded,
    /// The certificate's data was wrong.
    DataError,
    /// The holder's wallet key was lost or stolen.
    HolderKeyCompromised,
    /// Withdrawn by the issuing authority (e.g. a licence suspended).
    Withdrawn,
    /// The holder died.
    HolderDeceased,
}

impl RevocationReason {
    /// All reasons, in code order.
    pub const ALL: [RevocationReason; 6] = [
        RevocationReason::Unspecified,
        RevocationReason::Superseded,
        RevocationReason::DataError,
        RevocationReason::HolderKeyCompromised,
        RevocationReason::Withdrawn,
        RevocationReason::HolderDeceased,
    ];

    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::Superseded => 1,
            RevocationReason::DataError => 2,
            RevocationReason::HolderKeyCompromised => 3,
            RevocationReason::Withdrawn => 4,
            RevocationReason::HolderDeceased => 5,
        }
    }

    /// The reason for a wire code.
    pub fn from_code(code: u8) -> Option<RevocationReason> {
        RevocationReason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// A short name for operators, e.g. `superseded`.
    pub fn name(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::Superseded => "superseded",
            RevocationReason::DataError => "data-error",
            RevocationReason::HolderKeyCompromised => "holder-key-compromised",
            RevocationReason::Withdrawn => "withdrawn",
            RevocationReason::HolderDeceased => "holder-deceased",
        }
    }
}

impl Serialize for RevocationReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for RevocationReason {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = u8::deserialize(d)?;
        RevocationReason::from_code(code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown revocation reason {code}")))
    }
}

cbor_array! {
    /// One revoked certificate: its status index and why.
    pub struct RevocationEntry {
        /// Position in the issuer's status list.
        pub index: StatusIndex,
        /// Why it was revoked.
        pub reason: RevocationReason,
    }
}

cbor_array! {
    /// What an issuer signs to revoke certificates.
    pub struct RevocationBody {
        /// The ledger this is meant for.
        pub chain_id: ChainId,
        /// The issuing department.
        pub issuer: IssuerId,
        /// Which of its keys signed.
        pub key_id: KeyId,
        /// The certificates revoked, by status index, ascending.
        pub entries: Vec<RevocationEntry>,
        /// When the issuer signed (makes each revocation transaction unique).
        pub time: UnixTime,
    }
}

cbor_array! {
    /// A revocation transaction (context `ecert/v1/revocation`).
    pub struct RevocationTx {
        /// What is signed.
        pub body: RevocationBody,
        /// The issuer's signature.
        pub signature: SignatureBytes,
    }
}

/// Declares an enum that travels as a two-item CBOR array `[type, value]`, one type
/// number (a `u8`) per variant. Any other type number, a missing value or a third item is
/// refused.
macro_rules! cbor_typed_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident($ty:ty) = $code:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum $name { $($(#[$vmeta])* $variant($ty)),+ }

        impl $name {
            /// The type number this value travels with.
            pub fn type_code(&self) -> u8 {
                match self { $($name::$variant(_) => $code),+ }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let code: u8 = self.type_code();
                match self { $($name::$variant(v) => (code, v).serialize(s)),+ }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                visit::deserialize_seq(d)
            }
        }

        impl visit::FromSeq for $name {
            const LEN: usize = 2;

            fn expecting(f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{} [type, value]", $what)
            }

            fn from_seq<'de, A: serde::de::SeqAccess<'de>>(
                mut seq: A,
                expected: &dyn serde::de::Expected,
            ) -> Result<Self, A::Error> {
                let ty: u8 = visit::next_item(&mut seq, 0, expected)?;
                let value = match ty {
                    $($code => $name::$variant(visit::next_item(&mut seq, 1, expected)?),)+
                    other => {
                        return Err(serde::de::Error::custom(format!(
                            "unknown {} type {other}", $what
                        )))
                    }
                };
                visit::no_more_items(&mut seq, 2, expected)?;
                Ok(value)
            }
        }
    };
}

cbor_array! {
    /// Register a new key for an issuer, usable from `valid_from`.
    pub struct RegisterIssuerKey {
        /// The issuer.
        pub issuer: IssuerId,
        /// The new Ed25519 key (its key id is `SHA-256(key)[0..8]`).
        pub key: PublicKeyBytes,
        /// First second it may issue.
        pub valid_from: UnixTime,
    }
}

cbor_array! {
    /// Replace an issuer's key: `new_key` is usable from `valid_from`, and the old key is
    /// retired at that same second.
    pub struct RotateIssuerKey {
        /// The issuer.
        pub issuer: IssuerId,
        /// The key being replaced.
        pub old_key_id: KeyId,
        /// The new Ed25519 key.
        pub new_key: PublicKeyBytes,
        /// When the new key starts and the old one stops.
        pub valid_from: UnixTime,
    }
}

cbor_array! {
    /// Retire an issuer's key at `at`: from that second on, the ledger refuses its
    /// signatures, and certificates issued or anchored under it from then on do not verify.
    /// Certificates issued and anchored before stay valid.
    pub struct RetireIssuerKey {
        /// The issuer.
        pub issuer: IssuerId,
        /// The key.
        pub key_id: KeyId,
        /// First second it may no longer be used.
        pub at: UnixTime,
    }
}

cbor_array! {
    /// Entitle a registered issuer to a registered kind.
    pub struct GrantKind {
        /// The issuer.
        pub issuer: IssuerId,
        /// The kind it may now issue.
        pub kind: KindId,
    }
}

cbor_typed_enum! {
    /// A change to the registry.
    pub enum GovernanceAction ("governance action") {
        /// `[0, RegisterIssuerKey]`.
        RegisterIssuerKey(RegisterIssuerKey) = 0,
        /// `[1, RotateIssuerKey]`.
        RotateIssuerKey(RotateIssuerKey) = 1,
        /// `[2, RetireIssuerKey]`.
        RetireIssuerKey(RetireIssuerKey) = 2,
        /// `[3, IssuerRecord]`: a new issuer, its kinds and keys.
        RegisterIssuer(IssuerRecord) = 3,
        /// `[4, KindRecord]`: a new certificate kind.
        AddKind(KindRecord) = 4,
        /// `[5, GrantKind]`.
        GrantKind(GrantKind) = 5,
        /// `[6, ValidatorSetChange]`: a new validator set, certifying from the block after
        /// the one that holds this change (alone).
        ChangeValidators(ValidatorSetChange) = 6,
        /// `[7, KindRecord]`: a new content hash for a kind already registered (a revised
        /// kind file), from the block that holds it on.
        ReviseKind(KindRecord) = 7,
    }
}

/// Longest libp2p address text a validator-set change may name.
pub const MAX_VALIDATOR_ADDRESS_LEN: usize = 256;

cbor_array! {
    /// Replace the validator set: add, remove or replace validators (a replaced key is a
    /// removed validator and an added one). Approved by more than two thirds of the set
    /// before it, like any governance change, and carried in a block of its own; that
    /// block is still certified by the set before, and the new set certifies every block
    /// after it.
    pub struct ValidatorSetChange {
        /// The whole new set, in order: a validator's position is its vote and approval
        /// index from the next block on. Keys distinct.
        pub validators: Vec<ValidatorInfo>,
        /// Each new validator's libp2p address (multiaddr text), in the same order, where
        /// the other nodes reach it.
        pub addresses: Vec<String>,
    }
}

cbor_array! {
    /// One step of the chain of validator sets from genesis, as every artefact checked
    /// against a trust anchor carries it: the set before the change, the certified block
    /// that holds the change and nothing else, and the change itself. A verifier that
    /// trusts `previous` learns the set after: `previous` approved the change and
    /// certified the block that applied it.
    pub struct ValidatorChange {
        /// The set before the change (hashes to the trusted set of this step).
        pub previous: Vec<ValidatorInfo>,
        /// The checkpoint of the block holding the change, certified by `previous`; its
        /// `txs_root` is the leaf of the change transaction alone.
        pub checkpoint: Checkpoint,
        /// The change: a governance transaction whose action is `ChangeValidators`,
        /// approved by more than two thirds of `previous`.
        pub change: GovernanceTx,
    }
}

cbor_array! {
    /// What validators approve: one registry change, for one ledger, at one point of the
    /// registry's history.
    pub struct GovernanceBody {
        /// The ledger this is meant for.
        pub chain_id: ChainId,
        /// Must equal the registry's `governance_seq` when applied: each change applies
        /// once, in the order approved, and never again.
        pub seq: u64,
        /// The change.
        pub action: GovernanceAction,
    }
}

cbor_array! {
    /// One validator's approval of a governance body (context `ecert/v1/governance`).
    pub struct Approval {
        /// The validator's position in the validator set.
        pub validator: u16,
        /// Its signature over the body's exact bytes.
        pub signature: SignatureBytes,
    }
}

cbor_array! {
    /// A governance transaction: the body and the approvals of more than two thirds of
    /// the validators, by strictly ascending validator position.
    pub struct GovernanceTx {
        /// What is approved.
        pub body: GovernanceBody,
        /// The validators' approvals.
        pub approvals: Vec<Approval>,
    }
}

impl GovernanceBody {
    /// The body's encoding: the bytes validators sign.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }
}

cbor_typed_enum! {
    /// A ledger transaction: `[0, AnchorBatchTx]`, `[1, RevocationTx]` or
    /// `[2, GovernanceTx]`.
    pub enum Transaction ("transaction") {
        /// Anchor a batch of certificates.
        AnchorBatch(AnchorBatchTx) = 0,
        /// Revoke certificates.
        Revocation(RevocationTx) = 1,
        /// Change the registry, approved by a validator quorum.
        Governance(GovernanceTx) = 2,
    }
}

wire_bytes!(Transaction, "transaction");

cbor_array! {
    /// One entry of the ledger's anchor log: an anchored batch as the ledger recorded it.
    /// The log is an RFC 6962 tree whose leaves are these records' encodings.
    pub struct BatchRecord {
        /// The issuing department.
        pub issuer: IssuerId,
        /// The key that signed the batch.
        pub key_id: KeyId,
        /// The kinds the batch declared.
        pub kinds: Vec<KindId>,
        /// The batch's Merkle root.
        pub batch_root: Hash32,
        /// Number of certificates in the batch.
        pub count: u64,
        /// Height of the block that anchored it.
        pub height: u64,
        /// That block's time, in milliseconds since the epoch.
        pub time_ms: u64,
    }
}

impl BatchRecord {
    /// The record's encoding: the anchor log's leaf data.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }
}

cbor_array! {
    /// A block header. Its hash is SHA-256 of its encoding; validators sign its encoding.
    pub struct BlockHeader {
        /// The ledger.
        pub chain_id: ChainId,
        /// Height, from 1.
        pub height: u64,
        /// Hash of the previous header (zeros at height 1).
        pub prev_hash: Hash32,
        /// Block time, milliseconds since the epoch.
        pub time_ms: u64,
        /// RFC 6962 root over the block's transactions.
        pub txs_root: Hash32,
        /// RFC 6962 root of the anchor log after this block.
        pub anchors_root: Hash32,
        /// Size of the anchor log after this block.
        pub anchor_count: u64,
        /// Commitment to the revocation state after this block.
        pub revocation_root: Hash32,
        /// Commitment to the issuer and kind registry after this block.
        pub registry_root: Hash32,
        /// Commitment to the validator set that certifies this block.
        pub validators_hash: Hash32,
    }
}

wire_bytes!(BlockHeader, "block header");

impl BlockHeader {
    /// Block time in whole seconds.
    pub fn time(&self) -> UnixTime {
        UnixTime(self.time_ms / 1000)
    }
}

cbor_array! {
    /// One validator's signature over a header (context `ecert/v1/header-vote`).
    pub struct Vote {
        /// The validator's position in the validator set.
        pub validator: u16,
        /// Its signature over the header's exact bytes.
        pub signature: SignatureBytes,
    }
}

cbor_array! {
    /// A certified checkpoint: a header and the validators' votes on it. Certified when
    /// more than two thirds of the validator set signed.
    pub struct Checkpoint {
        /// `bstr .cbor BlockHeader`: the header exactly as signed.
        pub header: ByteBuf,
        /// Votes, by ascending validator position.
        pub votes: Vec<Vote>,
    }
}

wire_bytes!(Checkpoint, "checkpoint");

impl Checkpoint {
    /// Decodes the header.
    pub fn decode_header(&self) -> Result<BlockHeader, SchemaError> {
        BlockHeader::from_bytes(&self.header)
    }
}

cbor_array! {
    /// A validator: a department node whose key takes part in ordering and certification.
    pub struct ValidatorInfo {
        /// The department running it.
        pub department: IssuerId,
        /// Its Ed25519 key (also its libp2p identity).
        pub key: PublicKeyBytes,
    }
}

cbor_array! {
    /// Proof that a batch is anchored: its record in the anchor log, the record's RFC 9162
    /// inclusion path in the log as of a certified header, that header's checkpoint, and
    /// the validator set the votes are checked against. What a node answers to "is this
    /// batch anchored?"; checked with the verifier against the genesis trust anchor, so
    /// the node that served it is not trusted.
    pub struct AnchorReceipt {
        /// The anchor log entry of the batch.
        pub record: BatchRecord,
        /// Its position in the anchor log.
        pub batch_seq: u64,
        /// RFC 9162 inclusion path of the record's encoding as leaf `batch_seq` of the
        /// anchor log of size `anchor_count` of the checkpoint's header, leaf to root.
        pub path: Vec<Hash32>,
        /// The certified header whose `anchors_root` the path leads to.
        pub checkpoint: Checkpoint,
        /// The validator set that certified it (hashes to the header's `validators_hash`).
        pub validators: Vec<ValidatorInfo>;
        /// The validator-set changes from genesis up to the checkpoint, in ledger order
        /// (left out when the set never changed before it): how a verifier pinned at
        /// genesis reaches the set that certified the checkpoint.
        pub changes: Vec<ValidatorChange>,
    }
}

wire_bytes!(AnchorReceipt, "anchor receipt");

cbor_array! {
    /// The validator set as of a certified header, with the changes that lead to it from
    /// genesis (`GET /v1/validators`): what an operator checks before approving a change
    /// and a tool uses to find a validator's position. Checked with the verifier against
    /// the genesis trust anchor, so the node that served it is not trusted.
    pub struct ValidatorSetProof {
        /// The newest certified header.
        pub checkpoint: Checkpoint,
        /// The set that certifies the blocks after it: the set that certified it, or, when
        /// its block is a change, the set that change brings in.
        pub validators: Vec<ValidatorInfo>;
        /// The validator-set changes from genesis up to and including the checkpoint's
        /// height (left out when none).
        pub changes: Vec<ValidatorChange>,
    }
}

wire_bytes!(
    ValidatorSetProof,
    "validator set proof",
    MAX_TRUST_BUNDLE_BYTES
);

cbor_array! {
    /// One key of an issuer and when it may be used.
    pub struct IssuerKeyRecord {
        /// `SHA-256(key)[0..8]`.
        pub key_id: KeyId,
        /// The Ed25519 key.
        pub key: PublicKeyBytes,
        /// First second the key may issue.
        pub valid_from: UnixTime,
        /// First second it may no longer issue (set when rotated or retired).
        pub valid_until: Option<UnixTime>,
    }
}

cbor_array! {
    /// A registered issuer: a department, the kinds it is entitled to, and its keys.
    pub struct IssuerRecord {
        /// The department's id.
        pub issuer: IssuerId,
        /// Its name for people.
        pub name: String,
        /// The kinds it may issue, sorted.
        pub kinds: Vec<KindId>,
        /// Its keys, oldest first.
        pub keys: Vec<IssuerKeyRecord>,
    }
}

cbor_array! {
    /// A certificate kind the ledger knows: its id and the hash of its definition file.
    pub struct KindRecord {
        /// The kind id.
        pub kind: KindId,
        /// SHA-256 of the kind file.
        pub content_hash: Hash32,
    }
}

cbor_array! {
    /// The issuer and kind registry, as governance left it.
    pub struct Registry {
        /// Issuers, sorted by id.
        pub issuers: Vec<IssuerRecord>,
        /// Kinds, sorted by id.
        pub kinds: Vec<KindRecord>,
        /// How many governance transactions have been applied (0 at genesis): the `seq`
        /// the next one must carry.
        pub governance_seq: u64,
    }
}

impl Registry {
    /// The issuer with this id.
    pub fn issuer(&self, id: &IssuerId) -> Option<&IssuerRecord> {
        self.issuers.iter().find(|i| &i.issuer == id)
    }

    /// The kind record with this id.
    pub fn kind(&self, id: &KindId) -> Option<&KindRecord> {
        self.kinds.iter().find(|k| &k.kind == id)
    }
}

cbor_array! {
    /// An issuer's revocation status list: the set of its revoked status indexes, in the
    /// compact coding of [`crate::status_code`] (Golomb–Rice coded gaps), checked strictly
    /// when decoded.
    pub struct StatusList {
        /// The issuer.
        pub issuer: IssuerId,
        /// Its revoked status indexes.
        pub revoked: StatusCode,
    }
}

impl StatusList {
    /// An issuer's list with nothing revoked.
    pub fn new(issuer: IssuerId) -> StatusList {
        StatusList {
            issuer,
            revoked: StatusCode::empty(),
        }
    }

    /// Whether status index `index` is revoked (reads the coding up to it).
    pub fn is_revoked(&self, index: StatusIndex) -> bool {
        self.revoked.contains(index)
    }

    /// How many status indexes are revoked.
    pub fn revoked_count(&self) -> u64 {
        self.revoked.len()
    }

    /// Marks `indexes` revoked (any order, repeats allowed) and returns those that were
    /// not revoked before, ascending. Indexes above [`MAX_STATUS_INDEX`] are refused and
    /// leave the list unchanged.
    pub fn revoke(&mut self, indexes: &[StatusIndex]) -> Result<Vec<StatusIndex>, StatusCodeError> {
        self.revoked.insert(indexes)
    }
}

cbor_array! {
    /// The revocation state at a height: one status list per issuer that revoked anything,
    /// sorted by issuer.
    pub struct RevocationSnapshot {
        /// The height whose state this is.
        pub height: u64,
        /// Status lists, sorted by issuer id.
        pub lists: Vec<StatusList>,
    }
}

impl RevocationSnapshot {
    /// How many certificates are revoked, all issuers together.
    pub fn revoked_count(&self) -> u64 {
        self.lists.iter().map(StatusList::revoked_count).sum()
    }

    /// Whether `issuer`'s certificate at `index` is revoked in this snapshot.
    pub fn is_revoked(&self, issuer: &IssuerId, index: StatusIndex) -> bool {
        self.lists
            .iter()
            .find(|l| &l.issuer == issuer)
            .is_some_and(|l| l.is_revoked(index))
    }
}

cbor_array! {
    /// One issuer's status list and its place in the revocation tree of a header (an
    /// RFC 6962 tree over all issuers' lists, sorted by issuer): checks that list against
    /// the header's `revocation_root` without the others.
    pub struct StatusListProof {
        /// The list.
        pub list: StatusList,
        /// Its leaf position: how many issuers with a list sort before it.
        pub position: u64,
        /// How many issuers have a list (the tree's size).
        pub list_count: u64,
        /// RFC 9162 inclusion path of the list's leaf, leaf to root.
        pub path: Vec<Hash32>,
    }
}

cbor_array! {
    /// One status index newly revoked, and the block that revoked it.
    pub struct RevokedAt {
        /// The height of the block.
        pub height: u64,
        /// The issuer of the certificate.
        pub issuer: IssuerId,
        /// Its status index.
        pub index: StatusIndex,
    }
}

cbor_array! {
    /// What changed in the revocation state after height `since`, up to and including the
    /// height of `checkpoint`: every status index newly revoked in between, in ledger
    /// order. Applied to the revocation snapshot at `since` (the empty one at genesis,
    /// height 0), it gives the snapshot the checkpoint's header commits to; checked with
    /// the verifier against the genesis trust anchor, so the node that served it is not
    /// trusted.
    pub struct RevocationDelta {
        /// The height of the snapshot the delta applies to.
        pub since: u64,
        /// Newly revoked status indexes, heights ascending, each above `since` and at most
        /// the checkpoint's height.
        pub entries: Vec<RevokedAt>,
        /// The certified header the result must match.
        pub checkpoint: Checkpoint,
        /// The validator set that certified it (hashes to the header's `validators_hash`).
        pub validators: Vec<ValidatorInfo>;
        /// The validator-set changes from genesis up to the checkpoint, in ledger order
        /// (left out when the set never changed before it): how a verifier pinned at
        /// genesis reaches the set that certified the checkpoint.
        pub changes: Vec<ValidatorChange>,
    }
}

wire_bytes!(RevocationDelta, "revocation delta", MAX_TRUST_BUNDLE_BYTES);

cbor_array! {
    /// Consecutive revocations of one issuer in one block: [`RevokedAt`] entries without
    /// repeating their height and issuer (about 5 bytes a revocation instead of 23).
    pub struct RevokedGroup {
        /// The height of the block.
        pub height: u64,
        /// The issuer of the certificates.
        pub issuer: IssuerId,
        /// Their status indexes, in ledger order (at least one).
        pub indexes: Vec<StatusIndex>,
    }
}

impl RevokedGroup {
    /// Groups entries in ledger order into maximal runs of one block and one issuer: the
    /// one grouping a [`TrustUpdate`] may carry.
    pub fn group(entries: &[RevokedAt]) -> Vec<RevokedGroup> {
        let mut groups: Vec<RevokedGroup> = Vec::new();
        for entry in entries {
            match groups.last_mut() {
                Some(g) if g.height == entry.height && g.issuer == entry.issuer => {
                    g.indexes.push(entry.index)
                }
                _ => groups.push(RevokedGroup {
                    height: entry.height,
                    issuer: entry.issuer.clone(),
                    indexes: vec![entry.index],
                }),
            }
        }
        groups
    }

    /// The entries back, in order; `None` unless the groups are that one grouping (no
    /// empty group, no two consecutive groups of the same block and issuer).
    pub fn ungroup(groups: &[RevokedGroup]) -> Option<Vec<RevokedAt>> {
        let maximal = groups.windows(2).all(|pair| match pair {
            [a, b] => a.height != b.height || a.issuer != b.issuer,
            _ => true,
        });
        if !maximal || groups.iter().any(|g| g.indexes.is_empty()) {
            return None;
        }
        Some(
            groups
                .iter()
                .flat_map(|g| {
                    g.indexes.iter().map(|&index| RevokedAt {
                        height: g.height,
                        issuer: g.issuer.clone(),
                        index,
                    })
                })
                .collect(),
        )
    }
}

/// Version of [`TrustUpdate`].
pub const TRUST_UPDATE_VERSION: u64 = 1;

cbor_array! {
    /// What changed on the ledger after the certified header a counter holds (at height
    /// `since`, with `since_anchor_count` anchored batches), up to the certified header of
    /// `checkpoint`: an incremental sync (`GET /v1/updates?since=H`). Applied to the
    /// counter's verified store it gives exactly the store a full bundle of the new header
    /// would; the verifier checks every piece against that header, so the node that served
    /// it is not trusted.
    pub struct TrustUpdate {
        /// [`TRUST_UPDATE_VERSION`].
        pub version: u64,
        /// The ledger.
        pub chain_id: ChainId,
        /// The height of the header the update applies to.
        pub since: u64,
        /// That header's `anchor_count`: where `anchors` start in the anchor log.
        pub since_anchor_count: u64,
        /// The anchor-log records appended after `since`, in log order.
        pub anchors: Vec<BatchRecord>,
        /// RFC 6962 consistency proof `PROOF(since_anchor_count, D[new count])` from the
        /// held header's `anchors_root` to the new one.
        pub consistency: Vec<Hash32>,
        /// The registry as of the new header, when its root differs from the held
        /// header's (an empty list otherwise; at most one element).
        pub registry: Vec<Registry>,
        /// Status indexes newly revoked after `since`, in ledger order (heights ascending,
        /// each at most the new header's height), grouped by block and issuer.
        pub revocations: Vec<RevokedGroup>,
        /// The new certified header.
        pub checkpoint: Checkpoint,
        /// The validator set that certified it.
        pub validators: Vec<ValidatorInfo>;
        /// The validator-set changes from genesis up to the checkpoint, in ledger order
        /// (left out when the set never changed before it): how a verifier pinned at
        /// genesis reaches the set that certified the checkpoint.
        pub changes: Vec<ValidatorChange>,
    }
}

impl TrustUpdate {
    /// Encodes the update.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes an update strictly (up to [`MAX_TRUST_BUNDLE_BYTES`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<TrustUpdate, SchemaError> {
        from_cbor_versioned(
            "trust update",
            bytes,
            MAX_TRUST_BUNDLE_BYTES,
            10,
            TRUST_UPDATE_VERSION,
            |u: &TrustUpdate| u.version,
        )
    }
}

cbor_array! {
    /// Everything a counter needs to verify offline, as synced from a node or an exported
    /// file. None of it is trusted until the verifier has checked it against the
    /// checkpoint's quorum.
    pub struct TrustBundle {
        /// [`TRUST_BUNDLE_VERSION`].
        pub version: u64,
        /// The ledger.
        pub chain_id: ChainId,
        /// The validator set that certified the checkpoint (from genesis and
        /// governance).
        pub validators: Vec<ValidatorInfo>,
        /// The newest certified checkpoint.
        pub checkpoint: Checkpoint,
        /// The registry as of the checkpoint.
        pub registry: Registry,
        /// The whole anchor log as of the checkpoint.
        pub anchors: Vec<BatchRecord>,
        /// The revocation state as of the checkpoint.
        pub revocations: RevocationSnapshot;
        /// The validator-set changes from genesis up to the checkpoint, in ledger order
        /// (left out when the set never changed before it): how a verifier pinned at
        /// genesis reaches the set that certified the checkpoint.
        pub changes: Vec<ValidatorChange>,
    }
}

impl TrustBundle {
    /// Encodes the bundle.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes a bundle strictly (up to [`MAX_TRUST_BUNDLE_BYTES`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<TrustBundle, SchemaError> {
        from_cbor_versioned(
            "trust bundle",
            bytes,
            MAX_TRUST_BUNDLE_BYTES,
            7,
            TRUST_BUNDLE_VERSION,
            |b: &TrustBundle| b.version,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(height: u64, issuer: &str, index: u32) -> RevokedAt {
        RevokedAt {
            height,
            issuer: IssuerId::new(issuer).unwrap(),
            index: StatusIndex(index),
        }
    }

    #[test]
    fn revocations_group_in_maximal_runs_of_one_block_and_issuer_and_back() {
        let entries = vec![
            at(3, "justice", 9),
            at(3, "justice", 2),
            at(3, "transport", 1),
            at(3, "justice", 4),
            at(5, "justice", 7),
        ];
        let groups = RevokedGroup::group(&entries);
        let shape: Vec<(u64, &str, usize)> = groups
            .iter()
            .map(|g| (g.height, g.issuer.as_str(), g.indexes.len()))
            .collect();
        assert_eq!(
            shape,
            [
                (3, "justice", 2),
                (3, "transport", 1),
                (3, "justice", 1),
                (5, "justice", 1)
            ]
        );
        assert_eq!(RevokedGroup::ungroup(&groups), Some(entries));
        assert_eq!(RevokedGroup::ungroup(&[]), Some(vec![]));
        // Only that grouping: a run split in two, or an empty group, is refused.
        let mut split = groups.clone();
        let second = RevokedGroup {
            indexes: vec![StatusIndex(2)],
            ..split[0].clone()
        };
        split[0].indexes.truncate(1);
        split.insert(1, second);
        assert_eq!(RevokedGroup::ungroup(&split), None);
        let mut empty = groups;
        empty[1].indexes.clear();
        assert_eq!(RevokedGroup::ungroup(&empty), None);
    }
}
