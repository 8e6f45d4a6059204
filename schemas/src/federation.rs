//! Federation across provinces: the national trust list.
//!
//! Each province runs its own ledger. A national body publishes a [`NationalTrustList`]:
//! which provinces' ledgers a counter anywhere in the country trusts (each by the trust
//! anchor of its genesis: chain id and validator-set hash) and which certificate kinds each
//! province's issuers may issue. More than two thirds of the national body's keys approve
//! each version (context `ecert/v1/trust-list`); a counter pins those keys (its national
//! anchor) and takes a newer list only. A province left out of a newer list stops
//! verifying; a list past its `expires` time is refused, so a counter cannot be kept on an
//! old one for ever.

use crate::codec::{cbor_array, from_cbor_bounded, to_cbor};
use crate::{ChainId, Hash32, KindId, PublicKeyBytes, SchemaError, SignatureBytes, UnixTime};

/// Version of [`TrustListBody`].
pub const TRUST_LIST_VERSION: u64 = 1;

/// Largest encoded [`NationalTrustList`] accepted.
pub const MAX_TRUST_LIST_BYTES: usize = 1024 * 1024;

cbor_array! {
    /// One province's ledger as the national body lists it.
    pub struct ProvinceEntry {
        /// Its name, for people ("Zhejiang").
        pub name: String,
        /// Its ledger's chain id (unique in the list).
        pub chain_id: ChainId,
        /// Its genesis validator-set hash: with `chain_id`, the province's trust anchor.
        pub validators_hash: Hash32,
        /// The kinds its issuers may issue and counters elsewhere accept, sorted.
        pub kinds: Vec<KindId>,
    }
}

cbor_array! {
    /// What the national body approves: one version of the list.
    pub struct TrustListBody {
        /// [`TRUST_LIST_VERSION`].
        pub version: u64,
        /// The federation (the country), named like a chain id.
        pub federation: ChainId,
        /// This version's number: a counter takes only a higher one than it holds.
        pub seq: u64,
        /// When it was made.
        pub issued_at: UnixTime,
        /// When it stops counting: a counter refuses it from then on.
        pub expires: UnixTime,
        /// The provinces, sorted by chain id.
        pub provinces: Vec<ProvinceEntry>,
    }
}

impl TrustListBody {
    /// The body's encoding: the bytes the national body's keys sign.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }
}

cbor_array! {
    /// One national key's approval of a list body.
    pub struct TrustListApproval {
        /// The key's position in the national anchor's keys.
        pub signer: u16,
        /// Its signature (context `ecert/v1/trust-list`) over the body's encoding.
        pub signature: SignatureBytes,
    }
}

cbor_array! {
    /// A national trust list: a body and its approvals, ascending by signer.
    pub struct NationalTrustList {
        /// The list.
        pub body: TrustListBody,
        /// The national keys' approvals.
        pub approvals: Vec<TrustListApproval>,
    }
}

impl NationalTrustList {
    /// Encodes the list.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes a list strictly (up to [`MAX_TRUST_LIST_BYTES`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<NationalTrustList, SchemaError> {
        let list: NationalTrustList =
            from_cbor_bounded("national trust list", bytes, MAX_TRUST_LIST_BYTES)?;
        if list.body.version != TRUST_LIST_VERSION {
            return Err(SchemaError::UnsupportedVersion {
                what: "national trust list",
                found: list.body.version,
                supported: TRUST_LIST_VERSION,
            });
        }
        Ok(list)
    }
}

cbor_array! {
    /// What a counter pins to trust national lists: the federation and the national
    /// body's keys (more than two thirds of them must approve a list).
    pub struct NationalAnchor {
        /// The federation.
        pub federation: ChainId,
        /// The national body's keys, in signer order.
        pub keys: Vec<PublicKeyBytes>,
    }
}
