//! Freshness on an idle ledger: validators' signed statements that a certified header is
//! still the newest one, at a given time.
//!
//! A ledger without transactions makes no new headers, so the newest header's time stops
//! telling a counter how current its revocation data is. Each validator therefore signs,
//! every few minutes, a [`FreshnessStatement`] over the newest certified header it holds
//! (context `ecert/v1/freshness`); a [`Freshness`] gathers such signatures for one header.
//! When more than two thirds of the validator set signed, a counter holding that header's
//! revocation state may take it as current "as of" the time the quorum vouches for (see
//! the verifier's `freshness` module).

use crate::codec::{cbor_array, from_cbor_bounded, to_cbor};
use crate::{ChainId, Hash32, SchemaError, SignatureBytes, UnixTime};

/// Largest encoded [`Freshness`] accepted: far above any validator set's votes.
pub const MAX_FRESHNESS_BYTES: usize = 64 * 1024;

cbor_array! {
    /// What one validator signs: at `time_ms`, the newest certified header of `chain_id`
    /// it holds is the one at `height` whose hash (SHA-256 of its encoding) is
    /// `header_hash`.
    pub struct FreshnessStatement {
        /// The ledger.
        pub chain_id: ChainId,
        /// The header's height.
        pub height: u64,
        /// SHA-256 of the header's encoding.
        pub header_hash: Hash32,
        /// When the validator signed, milliseconds since the epoch (its own clock).
        pub time_ms: u64,
    }
}

impl FreshnessStatement {
    /// The statement's encoding: the bytes a validator signs.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// The statement's time in whole seconds.
    pub fn time(&self) -> UnixTime {
        UnixTime(self.time_ms / 1000)
    }
}

cbor_array! {
    /// One validator's signed statement, without the parts every vote of a [`Freshness`]
    /// shares.
    pub struct FreshnessVote {
        /// The validator's position in the validator set.
        pub validator: u16,
        /// The statement's time, milliseconds since the epoch.
        pub time_ms: u64,
        /// The validator's signature over the statement's encoding.
        pub signature: SignatureBytes,
    }
}

cbor_array! {
    /// Freshness statements of several validators over one certified header: a few hundred
    /// bytes that a counter syncs on its own, between full syncs.
    pub struct Freshness {
        /// The ledger.
        pub chain_id: ChainId,
        /// The header's height.
        pub height: u64,
        /// SHA-256 of the header's encoding.
        pub header_hash: Hash32,
        /// The votes, by ascending validator position.
        pub votes: Vec<FreshnessVote>,
    }
}

impl Freshness {
    /// The statement `vote` signed.
    pub fn statement(&self, vote: &FreshnessVote) -> FreshnessStatement {
        FreshnessStatement {
            chain_id: self.chain_id.clone(),
            height: self.height,
            header_hash: self.header_hash,
            time_ms: vote.time_ms,
        }
    }

    /// Encodes it.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes it strictly, refusing more than [`MAX_FRESHNESS_BYTES`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Freshness, SchemaError> {
        from_cbor_bounded("freshness", bytes, MAX_FRESHNESS_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Freshness {
        Freshness {
            chain_id: ChainId::new("ecert-test").unwrap(),
            height: 7,
            header_hash: Hash32([3; 32]),
            votes: vec![
                FreshnessVote {
                    validator: 0,
                    time_ms: 1_800_000_000_123,
                    signature: SignatureBytes([1; 64]),
                },
                FreshnessVote {
                    validator: 2,
                    time_ms: 1_800_000_001_000,
                    signature: SignatureBytes([2; 64]),
                },
            ],
        }
    }

    #[test]
    fn round_trips_and_is_strict() {
        let f = sample();
        let bytes = f.to_bytes().unwrap();
        assert_eq!(Freshness::from_bytes(&bytes).unwrap(), f);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Freshness::from_bytes(&longer).is_err());
        assert!(Freshness::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn each_vote_signs_the_shared_parts_and_its_own_time() {
        let f = sample();
        let a = f.statement(&f.votes[0]);
        let b = f.statement(&f.votes[1]);
        assert_eq!(a.height, 7);
        assert_eq!(a.header_hash, f.header_hash);
        assert_eq!(a.time(), UnixTime(1_800_000_000));
        assert_ne!(a.to_bytes().unwrap(), b.to_bytes().unwrap());
    }

    #[test]
    fn four_votes_fit_in_a_few_hundred_bytes() {
        let mut f = sample();
        f.votes = (0..4)
            .map(|v| FreshnessVote {
                validator: v,
                time_ms: 1_800_000_000_000,
                signature: SignatureBytes([9; 64]),
            })
            .collect();
        assert!(f.to_bytes().unwrap().len() < 400);
    }
}
