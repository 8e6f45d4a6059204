//! An in-process province: four department validators running the ledger state machine,
//! each department an issuer, blocks certified by all validators' votes.
//!
//! It runs the real code paths (issuer library, ledger state machine, certification,
//! trust bundle, verifier) without the network, so that stories, tests and benchmarks
//! can exercise the protocol end to end in one process.

use ecert_issuer::{
    issue, issue_copies, revocation_transaction, shuffle, shuffled_order, Batch,
    CertificateRequest, CopiesRequest, CopyBatch, IssuedCertificate, IssuedCopies, IssuerKey,
};
use ecert_schemas::copy::CopyPackage;
use std::collections::BTreeMap;

use ecert_ledger_node::certify::{assemble_checkpoint, sign_vote};
use ecert_ledger_node::governance::{approve, assemble_governance};
use ecert_ledger_node::state::{AppliedBlock, LedgerState, TxOutcome};
use ecert_schemas::freshness::{Freshness, FreshnessStatement};
use ecert_schemas::ledger::{
    Checkpoint, GovernanceAction, GovernanceBody, IssuerKeyRecord, IssuerRecord, Registry,
    RevocationEntry, RevocationReason, Transaction, TrustBundle, ValidatorChange, ValidatorInfo,
    ValidatorSetChange,
};
use ecert_schemas::{
    CertificatePackage, ChainId, Claims, IssuerId, Kind, KindId, KindRegistry, PublicKeyBytes,
    StatusIndex, UnixTime,
};
use ecert_verifier::freshness::sign_statement;
use ecert_verifier::{commit, crypto, TrustAnchor, TrustStore};
use ed25519_dalek::SigningKey;
use rand_core::CryptoRngCore;

use crate::TestnetError;

/// One department: a validator node and an issuer.
pub struct Department {
    /// Its id, e.g. `public-security`.
    pub id: IssuerId,
    /// Its name for people.
    pub name: String,
    /// The kinds it may issue.
    pub kinds: Vec<KindId>,
    /// Its issuing key.
    pub issuer_key: IssuerKey,
    /// Its validator key.
    pub validator_key: SigningKey,
    next_status_index: u32,
}

/// The four departments of the story: (id, name, kinds).
pub const DEPARTMENTS: [(&str, &str, &[&str]); 4] = [
    ("justice", "People's Court", &["no-criminal-record"]),
    (
        "public-security",
        "Public Security Bureau",
        &["id-card", "no-criminal-record"],
    ),
    (
        "social-security",
        "Human Resources and Social Security Bureau",
        &["social-security-card"],
    ),
    (
        "transport",
        "Transport Bureau (Traffic Police)",
        &["driver-licence"],
    ),
];

/// A certificate to issue.
#[derive(Clone, Debug)]
pub struct Order {
    /// The kind.
    pub kind: &'static str,
    /// Its claims.
    pub claims: Claims,
    /// Start of validity.
    pub valid_from: UnixTime,
    /// End of validity.
    pub expires: UnixTime,
}

/// The checkpoint of `header_bytes` with a vote of every validator (validator `i` holds
/// `validator_keys[i]`), as the real certification assembles it; `None` if that is not a
/// quorum (no validators).
pub fn certified_by(validator_keys: &[SigningKey], header_bytes: &[u8]) -> Option<Checkpoint> {
    let votes = (0u16..)
        .zip(validator_keys)
        .map(|(i, key)| sign_vote(key, i, header_bytes))
        .collect();
    assemble_checkpoint(header_bytes, votes, validator_keys.len())
}

/// The freshness statements of the first `signers` validators (validator `i` holds
/// `validator_keys[i]`), made at `time`, that the header `checkpoint` certifies is still
/// the newest, as validators serve them (`GET /v1/freshness`); `None` if the checkpoint's
/// header cannot be read or there are fewer keys than signers.
pub fn stated_fresh(
    validator_keys: &[SigningKey],
    checkpoint: &Checkpoint,
    signers: usize,
    time: UnixTime,
) -> Option<Freshness> {
    let header = checkpoint.decode_header().ok()?;
    let statement = FreshnessStatement {
        chain_id: header.chain_id,
        height: header.height,
        header_hash: commit::header_hash(&checkpoint.header),
        time_ms: time.secs().checked_mul(1000)?,
    };
    let votes = (0u16..)
        .zip(validator_keys.get(..signers)?)
        .map(|(i, key)| sign_statement(key, i, &statement).ok())
        .collect::<Option<Vec<_>>>()?;
    Some(Freshness {
        chain_id: statement.chain_id,
        height: statement.height,
        header_hash: statement.header_hash,
        votes,
    })
}

/// The province: departments, the ledger state and the newest checkpoint.
pub struct Province {
    /// The certificate kinds everybody uses.
    pub kinds: KindRegistry,
    /// The departments, sorted by id; department `i` is validator `i`.
    pub departments: Vec<Department>,
    ledger: LedgerState,
    checkpoint: Option<Checkpoint>,
    /// The genesis trust anchor.
    anchor: TrustAnchor,
    /// The checkpoints of the blocks that changed the validator set, by height.
    change_checkpoints: BTreeMap<u64, Checkpoint>,
    clock_ms: u64,
    genesis_time: UnixTime,
}

impl Province {
    /// Sets up the province at `genesis`: keys from `rng`, every department registered as
    /// validator and issuer (keys valid from `genesis`), the built-in kinds registered.
    pub fn new(
        chain_id: &str,
        genesis: UnixTime,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Province, TestnetError> {
        let kinds = KindRegistry::builtin()?;
        let mut departments = Vec::new();
        for (id, name, dept_kinds) in DEPARTMENTS {
            let id = IssuerId::new(id)?;
            departments.push(Department {
                issuer_key: IssuerKey::generate(id.clone(), rng),
                validator_key: SigningKey::generate(rng),
                kinds: dept_kinds
                    .iter()
                    .map(|k| KindId::new(*k))
                    .collect::<Result<_, _>>()?,
                name: name.to_owned(),
                id,
                next_status_index: 0,
            });
        }
        let validators = departments
            .iter()
            .map(|d| ValidatorInfo {
                department: d.id.clone(),
                key: crypto::public_key(&d.validator_key),
            })
            .collect();
        let registry = Registry {
            issuers: departments
                .iter()
                .map(|d| IssuerRecord {
                    issuer: d.id.clone(),
                    name: d.name.clone(),
                    kinds: d.kinds.clone(),
                    keys: vec![IssuerKeyRecord {
                        key_id: d.issuer_key.key_id(),
                        key: d.issuer_key.public_key(),
                        valid_from: genesis,
                        valid_until: None,
                    }],
                })
                .collect(),
            kinds: kinds.iter().map(Kind::record).collect(),
            governance_seq: 0,
        };
        let ledger = LedgerState::genesis(ChainId::new(chain_id)?, validators, registry)?;
        Ok(Province {
            kinds,
            departments,
            anchor: TrustAnchor::new(ledger.chain_id().clone(), ledger.validators())?,
            ledger,
            checkpoint: None,
            change_checkpoints: BTreeMap::new(),
            clock_ms: genesis.secs().saturating_mul(1000),
            genesis_time: genesis,
        })
    }

    /// The department `id`.
    pub fn department(&self, id: &str) -> Result<&Department, TestnetError> {
        self.departments
            .iter()
            .find(|d| d.id.as_str() == id)
            .ok_or_else(|| TestnetError::UnknownDepartment(id.to_owned()))
    }

    /// The ledger state.
    pub fn ledger(&self) -> &LedgerState {
        &self.ledger
    }

    /// Orders `txs` into a block at `time`, applies it, and certifies its header with every
    /// validator's vote.
    pub fn commit_block(
        &mut self,
        txs: &[Transaction],
        time: UnixTime,
    ) -> Result<AppliedBlock, TestnetError> {
        // Blocks are at least 1 ms apart, like a real leader's clock.
        self.clock_ms = (time.secs().saturating_mul(1000)).max(self.clock_ms + 1);
        let block = self.ledger.apply_block(txs, self.clock_ms)?;
        self.checkpoint = certified_by(&self.validator_keys(), &block.header_bytes);
        if block.validators_changed {
            if let Some(checkpoint) = &self.checkpoint {
                self.change_checkpoints
                    .insert(block.header.height, checkpoint.clone());
            }
        }
        Ok(block)
    }

    /// Replaces department `dept`'s validator key with `new_key` at `time` (after a
    /// compromise): a validator-set change approved by the other validators, alone in its
    /// block, which the old set certifies; the new key votes from the next block.
    pub fn replace_validator_key(
        &mut self,
        dept: usize,
        new_key: SigningKey,
        time: UnixTime,
    ) -> Result<(Transaction, AppliedBlock), TestnetError> {
        let keys = self.validator_keys();
        let validators: Vec<ValidatorInfo> = (0..)
            .zip(&self.departments)
            .map(|(i, d)| ValidatorInfo {
                department: d.id.clone(),
                key: if i == dept {
                    crypto::public_key(&new_key)
                } else {
                    crypto::public_key(&d.validator_key)
                },
            })
            .collect();
        let addresses = self
            .departments
            .iter()
            .map(|d| format!("/dns4/{}.validators.example/tcp/4001", d.id))
            .collect();
        let body = GovernanceBody {
            chain_id: self.ledger.chain_id().clone(),
            seq: self.ledger.registry().governance_seq,
            action: GovernanceAction::ChangeValidators(ValidatorSetChange {
                validators,
                addresses,
            }),
        };
        let approvals = (0u16..)
            .zip(&keys)
            .filter(|(i, _)| usize::from(*i) != dept)
            .map(|(i, key)| approve(key, i, &body))
            .collect::<Result<Vec<_>, _>>()?;
        let tx = assemble_governance(body, approvals, keys.len()).ok_or_else(|| {
            TestnetError::local("replacing a validator key", "the approvals are no quorum")
        })?;
        let tx = Transaction::Governance(tx);
        let block = self.commit_block(std::slice::from_ref(&tx), time)?;
        if let Some(TxOutcome::Skipped(e)) = block.outcomes.first() {
            return Err(TestnetError::Skipped(e.clone()));
        }
        if block.validators_changed {
            if let Some(d) = self.departments.get_mut(dept) {
                d.validator_key = new_key;
            }
        }
        Ok((tx, block))
    }

    /// The validator-set changes below the newest checkpoint, with their checkpoints.
    pub fn validator_changes(&self) -> Result<Vec<ValidatorChange>, TestnetError> {
        let height = self.checkpoint()?.decode_header()?.height;
        self.ledger
            .certified_changes(height, |h| self.change_checkpoints.get(&h).cloned())
            .ok_or_else(|| {
                TestnetError::local(
                    "the validator-set changes",
                    "a change block is not certified",
                )
            })
    }

    /// The validators' keys now: validator `i` is department `i`.
    pub fn validator_keys(&self) -> Vec<SigningKey> {
        self.departments
            .iter()
            .map(|d| d.validator_key.clone())
            .collect()
    }

    /// Issues `orders` to `holder` from department `dept` at `issued_at`, with consecutive
    /// status indexes.
    pub fn issue(
        &mut self,
        dept: &str,
        holder: PublicKeyBytes,
        orders: &[Order],
        issued_at: UnixTime,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Vec<IssuedCertificate>, TestnetError> {
        let kinds = &self.kinds;
        let department = self
            .departments
            .iter_mut()
            .find(|d| d.id.as_str() == dept)
            .ok_or_else(|| TestnetError::UnknownDepartment(dept.to_owned()))?;
        let mut issued = Vec::with_capacity(orders.len());
        for order in orders {
            let request = CertificateRequest {
                kind: KindId::new(order.kind)?,
                claims: order.claims.clone(),
                holder,
                valid_from: order.valid_from,
                expires: order.expires,
                status_index: StatusIndex(department.next_status_index),
            };
            issued.push(issue(
                &department.issuer_key,
                kinds,
                &request,
                issued_at,
                rng,
            )?);
            department.next_status_index += 1;
        }
        Ok(issued)
    }

    /// Anchors `issued` as one batch of department `dept` in a certified block at `time`
    /// and returns the certificates' packages.
    pub fn anchor(
        &mut self,
        dept: &str,
        issued: Vec<IssuedCertificate>,
        time: UnixTime,
    ) -> Result<Vec<CertificatePackage>, TestnetError> {
        let department = self.department(dept)?;
        let batch = Batch::new(&department.issuer_key, issued)?;
        let tx = batch.anchor_transaction(&department.issuer_key, self.ledger.chain_id())?;
        let block = self.commit_block(&[Transaction::AnchorBatch(tx)], time)?;
        match block.outcomes.first() {
            Some(TxOutcome::Anchored { batch_seq }) => Ok(batch.packages(*batch_seq)),
            Some(TxOutcome::Skipped(e)) => Err(TestnetError::Skipped(e.clone())),
            _ => Err(TestnetError::NothingCertified),
        }
    }

    /// [`Province::issue`] then [`Province::anchor`], both at `time`.
    pub fn issue_and_anchor(
        &mut self,
        dept: &str,
        holder: PublicKeyBytes,
        orders: &[Order],
        time: UnixTime,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Vec<CertificatePackage>, TestnetError> {
        let issued = self.issue(dept, holder, orders, time, rng)?;
        self.anchor(dept, issued, time)
    }

    /// Issues `orders` to `holder` from department `dept` at `issued_at` as one-time
    /// copies (format 2), `copies` each. The status indexes are the next
    /// `orders × copies` of the department's, dealt to the copies in an order drawn from
    /// `rng` (as the issuing service does), so neighbouring indexes say nothing.
    pub fn issue_copies(
        &mut self,
        dept: &str,
        holder: PublicKeyBytes,
        orders: &[Order],
        copies: u16,
        issued_at: UnixTime,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Vec<IssuedCopies>, TestnetError> {
        let kinds = &self.kinds;
        let department = self
            .departments
            .iter_mut()
            .find(|d| d.id.as_str() == dept)
            .ok_or_else(|| TestnetError::UnknownDepartment(dept.to_owned()))?;
        let per = usize::from(copies);
        let first = department.next_status_index;
        let count = u32::try_from(orders.len() * per).map_err(|_| {
            TestnetError::local("issuing copies", "too many status indexes at once")
        })?;
        let mut indexes: Vec<StatusIndex> = (first..first + count).map(StatusIndex).collect();
        shuffle(&mut indexes, rng);
        let mut issued = Vec::with_capacity(orders.len());
        for (order, dealt) in orders.iter().zip(indexes.chunks(per.max(1))) {
            let request = CopiesRequest {
                kind: KindId::new(order.kind)?,
                claims: order.claims.clone(),
                holder,
                valid_from: order.valid_from,
                expires: order.expires,
                status_indexes: dealt.to_vec(),
            };
            issued.push(issue_copies(
                &department.issuer_key,
                kinds,
                &request,
                issued_at,
                rng,
            )?);
        }
        department.next_status_index += count;
        Ok(issued)
    }

    /// Anchors `issued` as one batch of department `dept`, its copies in an order drawn
    /// from `rng`, in a certified block at `time`; the certificates' packages.
    pub fn anchor_copies(
        &mut self,
        dept: &str,
        issued: Vec<IssuedCopies>,
        time: UnixTime,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Vec<CopyPackage>, TestnetError> {
        let department = self.department(dept)?;
        let order = shuffled_order(&issued, rng);
        let batch = CopyBatch::new(&department.issuer_key, issued, order)?;
        let tx = batch.anchor_transaction(&department.issuer_key, self.ledger.chain_id())?;
        let block = self.commit_block(&[Transaction::AnchorBatch(tx)], time)?;
        match block.outcomes.first() {
            Some(TxOutcome::Anchored { batch_seq }) => Ok((0..batch.len())
                .filter_map(|i| batch.package(i, *batch_seq))
                .collect()),
            Some(TxOutcome::Skipped(e)) => Err(TestnetError::Skipped(e.clone())),
            _ => Err(TestnetError::NothingCertified),
        }
    }

    /// Revokes `indexes` of department `dept` at `time` in a certified block.
    pub fn revoke(
        &mut self,
        dept: &str,
        indexes: &[StatusIndex],
        reason: RevocationReason,
        time: UnixTime,
    ) -> Result<(), TestnetError> {
        let department = self.department(dept)?;
        let entries = indexes
            .iter()
            .map(|&index| RevocationEntry { index, reason })
            .collect();
        let tx = revocation_transaction(
            &department.issuer_key,
            self.ledger.chain_id(),
            entries,
            time,
        )?;
        let block = self.commit_block(&[Transaction::Revocation(tx)], time)?;
        match block.outcomes.first() {
            Some(TxOutcome::Skipped(e)) => Err(TestnetError::Skipped(e.clone())),
            _ => Ok(()),
        }
    }

    /// The province's issuers as a genesis file lists them (for a networked ledger whose
    /// issuers are this province's departments).
    pub fn genesis_issuers(&self) -> Vec<ecert_ledger_node::genesis::GenesisIssuer> {
        self.departments
            .iter()
            .map(|d| ecert_ledger_node::genesis::GenesisIssuer {
                id: d.id.to_string(),
                name: d.name.clone(),
                kinds: d.kinds.iter().map(|k| k.to_string()).collect(),
                keys: vec![ecert_ledger_node::genesis::GenesisIssuerKey {
                    key: d.issuer_key.public_key().to_hex(),
                    valid_from: self.genesis_time.secs(),
                }],
            })
            .collect()
    }

    /// The newest certified checkpoint.
    pub fn checkpoint(&self) -> Result<&Checkpoint, TestnetError> {
        self.checkpoint
            .as_ref()
            .ok_or(TestnetError::NothingCertified)
    }

    /// What a counter syncs now.
    pub fn trust_bundle(&self) -> Result<TrustBundle, TestnetError> {
        Ok(self
            .ledger
            .trust_bundle(self.checkpoint()?.clone(), self.validator_changes()?))
    }

    /// What a counter of this province is configured with: the chain id and the
    /// genesis validator set's hash.
    pub fn trust_anchor(&self) -> Result<TrustAnchor, TestnetError> {
        Ok(self.anchor.clone())
    }

    /// A counter's trust store synced now (through the bundle's bytes, as a counter would).
    pub fn sync_counter(&self) -> Result<TrustStore, TestnetError> {
        let bytes = self.trust_bundle()?.to_bytes()?;
        let bundle = TrustBundle::from_bytes(&bytes)?;
        Ok(TrustStore::from_bundle(
            bundle,
            &self.trust_anchor()?,
            self.kinds.clone(),
        )?)
    }
}
