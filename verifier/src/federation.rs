//! Federation across provinces: a counter that pins its country's national anchor, checks
//! the national trust list with it, syncs the provinces it serves, and verifies offline a
//! certificate from any of them — also several provinces' certificates in one QR code.
//!
//! The list says which ledgers are provinces (each by its genesis trust anchor) and which
//! kinds each may issue; every province's data is checked against the trust anchor the
//! list gives for it, exactly as a single-ledger counter checks its own
//! ([`TrustStore::from_bundle`]). A certificate is checked against the province whose
//! certified anchor log holds its batch; the list must let that province issue its kind.

use std::collections::BTreeMap;

use ecert_schemas::federation::{NationalAnchor, NationalTrustList, ProvinceEntry, TrustListBody};
use ecert_schemas::presentation::Presentation;
use ecert_schemas::{ChainId, UnixTime};

use crate::checkpoint::is_quorum;
use crate::crypto::{self, SigningContext};
use crate::merkle::{leaf_hash, root_from_path};
use crate::presentation::{verify_with, Ledger};
use crate::presentation_v2::{store_holds_copy, verify_v2_with};
use crate::{Policy, TrustAnchor, TrustStore, Verdict, VerifyError};
use ecert_schemas::copy::{AnyPresentation, PresentationV2};

fn mismatch(detail: impl Into<String>) -> VerifyError {
    VerifyError::TrustDataMismatch {
        detail: detail.into(),
    }
}

/// A national trust list checked against the national anchor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTrustList {
    list: NationalTrustList,
    approvals: usize,
}

/// Checks a national trust list against the national anchor at `now`, in order:
///
/// 1. it is for the anchor's federation, else [`VerifyError::TrustDataMismatch`];
/// 2. approvals come from distinct national keys in ascending order and each signature
///    verifies (context `ecert/v1/trust-list` over the body's encoding), else
///    [`VerifyError::TrustDataMismatch`];
/// 3. more than two thirds of the national keys approved, else
///    [`VerifyError::TrustListNotApproved`];
/// 4. provinces are sorted by chain id with none repeated, each with its kinds sorted and
///    none repeated, else [`VerifyError::TrustDataMismatch`];
/// 5. `now` is before its expiry, else [`VerifyError::TrustListExpired`].
pub fn verify_trust_list(
    list: &NationalTrustList,
    anchor: &NationalAnchor,
    now: UnixTime,
) -> Result<VerifiedTrustList, VerifyError> {
    let body = &list.body;
    if body.federation != anchor.federation {
        return Err(mismatch(format!(
            "the trust list is for {}, this counter trusts {}",
            body.federation, anchor.federation
        )));
    }
    let signed = body.to_bytes()?;
    let mut previous: Option<u16> = None;
    for approval in &list.approvals {
        if previous.is_some_and(|p| approval.signer <= p) {
            return Err(mismatch(
                "trust list approvals are repeated or out of order",
            ));
        }
        previous = Some(approval.signer);
        let verifies = anchor
            .keys
            .get(usize::from(approval.signer))
            .and_then(crypto::parse_public_key)
            .is_some_and(|key| {
                crypto::verify(
                    &key,
                    SigningContext::TrustList,
                    &signed,
                    &approval.signature,
                )
            });
        if !verifies {
            return Err(mismatch(format!(
                "the approval of national key #{} does not verify",
                approval.signer
            )));
        }
    }
    let approvals = list.approvals.len();
    if !is_quorum(approvals, anchor.keys.len()) {
        return Err(VerifyError::TrustListNotApproved {
            approvals,
            keys: anchor.keys.len(),
        });
    }
    let ascending = |pair: &[ProvinceEntry]| match pair {
        [a, b] => a.chain_id < b.chain_id,
        _ => true,
    };
    if !body.provinces.windows(2).all(ascending) {
        return Err(mismatch(
            "the trust list's provinces are not sorted by chain id, or one is repeated",
        ));
    }
    if let Some(p) = body.provinces.iter().find(|p| {
        !p.kinds.windows(2).all(|pair| match pair {
            [a, b] => a < b,
            _ => true,
        })
    }) {
        return Err(mismatch(format!(
            "the kinds of province {} are not sorted, or one is repeated",
            p.chain_id
        )));
    }
    if now >= body.expires {
        return Err(VerifyError::TrustListExpired {
            expires: body.expires,
        });
    }
    Ok(VerifiedTrustList {
        list: list.clone(),
        approvals,
    })
}

/// Signs a trust list body with national key `signer` (the national body's tool).
pub fn approve_trust_list(
    key: &ed25519_dalek::SigningKey,
    signer: u16,
    body: &ecert_schemas::federation::TrustListBody,
) -> Result<ecert_schemas::federation::TrustListApproval, VerifyError> {
    Ok(ecert_schemas::federation::TrustListApproval {
        signer,
        signature: crypto::sign(key, SigningContext::TrustList, &body.to_bytes()?),
    })
}

impl VerifiedTrustList {
    /// The list as checked.
    pub fn list(&self) -> &NationalTrustList {
        &self.list
    }

    /// Its version number.
    pub fn seq(&self) -> u64 {
        self.list.body.seq
    }

    /// When it expires.
    pub fn expires(&self) -> UnixTime {
        self.list.body.expires
    }

    /// How many national keys approved it.
    pub fn approvals(&self) -> usize {
        self.approvals
    }

    /// The provinces, sorted by chain id.
    pub fn provinces(&self) -> &[ProvinceEntry] {
        &self.list.body.provinces
    }

    /// The province with this chain id, if listed.
    pub fn province(&self, chain_id: &ChainId) -> Option<&ProvinceEntry> {
        self.provinces().iter().find(|p| &p.chain_id == chain_id)
    }

    /// The trust anchor of a listed province: what its data is checked against.
    pub fn province_anchor(&self, chain_id: &ChainId) -> Option<TrustAnchor> {
        self.province(chain_id).map(|p| TrustAnchor {
            chain_id: p.chain_id.clone(),
            validators_hash: p.validators_hash,
        })
    }

    /// Whether this list may replace `held`: a higher version of the same federation
    /// (a counter never goes back to an older list, which might still name a province
    /// since removed).
    pub fn replaces(&self, held: &VerifiedTrustList) -> bool {
        self.list.body.federation == held.list.body.federation
            && list_version(&self.list.body, &held.list.body) == ListVersion::Newer
    }
}

/// A national list against the one a counter holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListVersion {
    /// A higher version: it replaces the held one.
    Newer,
    /// The held list itself.
    Same,
    /// A lower version: refused (it might still name a province removed since).
    Older,
    /// Another list with the held one's version number: refused (each version has one
    /// content).
    Conflicting,
}

/// How the body of a national list `new` stands against that of the list held, `held`
/// (both of one federation): only a higher version replaces it.
pub fn list_version(new: &TrustListBody, held: &TrustListBody) -> ListVersion {
    match new.seq.cmp(&held.seq) {
        std::cmp::Ordering::Greater => ListVersion::Newer,
        std::cmp::Ordering::Less => ListVersion::Older,
        std::cmp::Ordering::Equal if new == held => ListVersion::Same,
        std::cmp::Ordering::Equal => ListVersion::Conflicting,
    }
}

/// A counter's view of the federation: the checked national list and the synced data of
/// the listed provinces it serves.
#[derive(Clone, Debug)]
pub struct Federation {
    list: VerifiedTrustList,
    provinces: BTreeMap<ChainId, TrustStore>,
}

impl Federation {
    /// A federation with no province synced yet.
    pub fn new(list: VerifiedTrustList) -> Federation {
        Federation {
            list,
            provinces: BTreeMap::new(),
        }
    }

    /// The national list.
    pub fn list(&self) -> &VerifiedTrustList {
        &self.list
    }

    /// Takes a newer national list ([`VerifiedTrustList::replaces`]), keeping the synced
    /// data only of the provinces it still lists with the same trust anchor: a province
    /// removed from the list stops verifying at once. Returns the chain ids dropped. An
    /// older or equal list is refused ([`VerifyError::TrustDataMismatch`]) and changes
    /// nothing.
    pub fn replace_list(&mut self, list: VerifiedTrustList) -> Result<Vec<ChainId>, VerifyError> {
        if !list.replaces(&self.list) {
            return Err(mismatch(format!(
                "the trust list offered (version {}) is not newer than the one held \
                 (version {})",
                list.seq(),
                self.list.seq()
            )));
        }
        let still_listed = |chain_id: &ChainId, store: &TrustStore| {
            list.province(chain_id).is_some_and(|p| {
                store.anchor().ok().map(|a| a.validators_hash) == Some(p.validators_hash)
            })
        };
        let dropped: Vec<ChainId> = self
            .provinces
            .iter()
            .filter(|(chain_id, store)| !still_listed(chain_id, store))
            .map(|(chain_id, _)| chain_id.clone())
            .collect();
        for chain_id in &dropped {
            self.provinces.remove(chain_id);
        }
        self.list = list;
        Ok(dropped)
    }

    /// Adds (or replaces) a province's synced data. Refused unless the province is on the
    /// list and the data follows from the genesis validator set the list names for it
    /// (through the province's validator-set changes, checked when the store was built)
    /// ([`VerifyError::ProvinceUnknown`], [`VerifyError::HeaderNotCertified`]).
    pub fn add(&mut self, store: TrustStore) -> Result<(), VerifyError> {
        let chain_id = store.chain_id().clone();
        let Some(entry) = self.list.province(&chain_id) else {
            return Err(VerifyError::ProvinceUnknown {
                detail: format!("ledger {chain_id} is not on the national trust list"),
            });
        };
        if store.anchor()?.validators_hash != entry.validators_hash {
            return Err(VerifyError::HeaderNotCertified {
                detail: format!(
                    "ledger {chain_id}'s data does not follow from the genesis validator set \
                     the national trust list names for it"
                ),
            });
        }
        self.provinces.insert(chain_id, store);
        Ok(())
    }

    /// The synced provinces.
    pub fn provinces(&self) -> impl Iterator<Item = &TrustStore> {
        self.provinces.values()
    }

    /// Verifies a QR string offline at `now` under `policy`: every check of
    /// [`crate::verify_presentation`], each certificate against the province whose
    /// certified anchor log holds its batch (whose data must be fresh enough), and the
    /// list must let that province issue its kind ([`VerifyError::ProvinceNotEntitled`]).
    /// A certificate whose batch no synced province holds is
    /// [`VerifyError::ProvinceUnknown`].
    pub fn verify_presentation(
        &self,
        qr: &str,
        now: UnixTime,
        policy: &Policy,
    ) -> Result<Verdict, VerifyError> {
        match AnyPresentation::from_qr_string(qr)? {
            AnyPresentation::V1(presentation) => self.verify_decoded(&presentation, now, policy),
            AnyPresentation::V2(presentation) => self.verify_decoded_v2(&presentation, now, policy),
        }
    }

    /// [`Federation::verify_presentation`] on an already-decoded format-2 presentation: a
    /// copy names no issuer, so its province is the one whose anchor log holds it.
    pub fn verify_decoded_v2(
        &self,
        presentation: &PresentationV2,
        now: UnixTime,
        policy: &Policy,
    ) -> Result<Verdict, VerifyError> {
        verify_v2_with(presentation, now, policy, |item| {
            let store = self
                .provinces
                .values()
                .find(|store| store_holds_copy(store, item))
                .ok_or_else(|| VerifyError::ProvinceUnknown {
                    detail: format!("a copy in batch #{}", item.batch_seq),
                })?;
            self.ledger_of_store(store)
        })
    }

    /// [`Federation::verify_presentation`] on an already-decoded presentation.
    pub fn verify_decoded(
        &self,
        presentation: &Presentation,
        now: UnixTime,
        policy: &Policy,
    ) -> Result<Verdict, VerifyError> {
        verify_with(presentation, now, policy, |item, cert| {
            let anchor = &item.anchor;
            let root = root_from_path(&leaf_hash(&cert.bytes), anchor.leaf_index, &anchor.path);
            let holds = |store: &&TrustStore| {
                store
                    .batch(anchor.batch_seq)
                    .is_some_and(|b| Some(b.batch_root) == root)
            };
            let store = self.provinces.values().find(holds).ok_or_else(|| {
                VerifyError::ProvinceUnknown {
                    detail: format!(
                        "{} certificate of issuer {}, batch #{}",
                        cert.claims.kind, cert.claims.issuer, anchor.batch_seq
                    ),
                }
            })?;
            self.ledger_of_store(store)
        })
    }

    /// A synced province's data with the kinds the national list lets it issue.
    fn ledger_of_store<'a>(&'a self, store: &'a TrustStore) -> Result<Ledger<'a>, VerifyError> {
        let entry =
            self.list
                .province(store.chain_id())
                .ok_or_else(|| VerifyError::ProvinceUnknown {
                    detail: format!(
                        "ledger {} is not on the national trust list",
                        store.chain_id()
                    ),
                })?;
        Ok(Ledger {
            store,
            kinds: Some((&entry.chain_id, entry.kinds.as_slice())),
        })
    }
}
