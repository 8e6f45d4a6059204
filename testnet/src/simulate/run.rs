//! The simulated year, day by day, on the real state machine and verifier.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ecert_issuer::{revocation_transaction, sign_anchor_body, IssuerKey};
use ecert_ledger_node::governance::{approve, assemble_governance};
use ecert_ledger_node::state::TxOutcome;
use ecert_schemas::codec::to_cbor;
use ecert_schemas::ledger::{
    AnchorBatchBody, GovernanceAction, GovernanceBody, RevocationEntry, RevocationReason,
    RotateIssuerKey, Transaction, TrustBundle, TrustUpdate, MAX_REVOCATIONS_PER_TX,
    MAX_STATUS_INDEX,
};
use ecert_schemas::{KindRegistry, StatusIndex, UnixTime};
use ecert_verifier::{TrustAnchor, TrustStore};
use ecert_wallet::HolderKey;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_core::RngCore;

use super::calendar::{self, Event};
use super::citizen::{random_hash, Citizen, RealBatch};
use super::idle::idle_week;
use super::storage::NodeStorage;
use super::{
    DaySync, LedgerBytes, Options, Presented, Progress, Report, Rotation, Shown, YearEnd,
    YEAR_END_REVOCATIONS,
};
use crate::province::{Province, DEPARTMENTS};
use crate::{sample, TestnetError};

/// The simulated ledger's chain id.
const CHAIN_ID: &str = "ecert-province-simulated";
/// The department whose validator key is replaced halfway through the year.
const VALIDATOR_REPLACED: usize = 2;

/// Each department's share of the issuance (and so of the revocations), in percent.
fn weight(issuer: &str) -> u64 {
    match issuer {
        "public-security" => 45,
        "social-security" => 25,
        "transport" => 20,
        _ => 10,
    }
}

fn sim_error(detail: impl std::fmt::Display) -> TestnetError {
    TestnetError::local("simulation", detail)
}

/// One batch's run of status indexes: `certificates` certificates of `copies` copies
/// each take the indexes from `first` on, handed to the copies in a random order.
#[derive(Clone, Copy, Debug)]
struct IndexRun {
    /// Its first status index.
    first: u32,
    /// Certificates in the batch.
    certificates: u32,
    /// Of them, revoked or kept (the citizen's): never picked again.
    taken: u32,
}

/// What a certificate's indexes are taken for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Taken {
    /// Revoked.
    Revoked,
    /// The citizen's: never revoked.
    Kept,
}

/// A department's status list as the simulation allocates it: one run of consecutive
/// indexes per batch, one index per copy. Which copies are one certificate's is not
/// kept: the copies of a batch hold its indexes in a random order, so a certificate's
/// copies hold a random set of them, drawn when the certificate is revoked (among those
/// no other certificate revoked or kept holds: the same distribution).
#[derive(Clone, Default)]
struct Statuses {
    /// Copies per certificate.
    copies: u32,
    /// The next free status index.
    next: u32,
    /// Each batch's run of indexes.
    runs: Vec<IndexRun>,
    /// Certificates in the runs up to and including each one.
    cumulative: Vec<u64>,
    /// Certificates revoked or kept.
    taken: u64,
    /// Indexes revoked so far.
    revoked: HashSet<u32>,
    /// Indexes of the citizen's real certificates: never revoked.
    kept: HashSet<u32>,
}

impl Statuses {
    fn new(copies: u16) -> Statuses {
        Statuses {
            copies: u32::from(copies.max(1)),
            ..Statuses::default()
        }
    }

    /// Reserves the run of a batch of `certificates` certificates (one index per copy)
    /// and returns its first index.
    fn reserve(&mut self, certificates: u64, issuer: &str) -> Result<StatusIndex, TestnetError> {
        let first = self.next;
        let count = certificates.saturating_mul(u64::from(self.copies));
        let next = u64::from(first) + count;
        if next > u64::from(MAX_STATUS_INDEX) + 1 {
            return Err(sim_error(format!(
                "{issuer}'s status list is full (indexes end at {MAX_STATUS_INDEX}, one per \
                 copy): simulate fewer certificates or copies"
            )));
        }
        self.next = u32::try_from(next).map_err(sim_error)?;
        let certificates = u32::try_from(certificates).map_err(sim_error)?;
        self.runs.push(IndexRun {
            first,
            certificates,
            taken: 0,
        });
        let before = self.cumulative.last().copied().unwrap_or(0);
        self.cumulative.push(before + u64::from(certificates));
        Ok(StatusIndex(first))
    }

    /// Keeps one certificate of the newest run (the citizen's): its copies' indexes, drawn
    /// at random in the run, are never revoked.
    fn keep_in_last(&mut self, rng: &mut impl RngCore) -> Vec<StatusIndex> {
        let Some(run) = self.runs.len().checked_sub(1) else {
            return Vec::new();
        };
        self.take_certificate(run, Taken::Kept, rng)
            .unwrap_or_default()
    }

    /// The copies' indexes of one more certificate of run `run`, marked `how`: `copies`
    /// indexes of the run no other certificate holds, at random; `None` if every
    /// certificate of the run is taken.
    fn take_certificate(
        &mut self,
        run: usize,
        how: Taken,
        rng: &mut impl RngCore,
    ) -> Option<Vec<StatusIndex>> {
        let copies = self.copies;
        let r = self.runs.get_mut(run)?;
        if r.taken >= r.certificates {
            return None;
        }
        r.taken += 1;
        let size = u64::from(r.certificates) * u64::from(copies);
        let first = r.first;
        self.taken += 1;
        let mut picked = Vec::with_capacity(copies as usize);
        while picked.len() < copies as usize {
            let index = first + (rng.next_u64() % size) as u32;
            if self.kept.contains(&index) || self.revoked.contains(&index) {
                continue;
            }
            match how {
                Taken::Revoked => self.revoked.insert(index),
                Taken::Kept => self.kept.insert(index),
            };
            picked.push(StatusIndex(index));
        }
        Some(picked)
    }

    /// Up to `count` certificates issued, not revoked and not kept, chosen at random and
    /// marked revoked: each certificate's copies' indexes.
    fn pick(&mut self, count: u64, rng: &mut impl RngCore) -> Vec<Vec<StatusIndex>> {
        let total = self.cumulative.last().copied().unwrap_or(0);
        let free = total.saturating_sub(self.taken);
        let mut picked = Vec::new();
        while (picked.len() as u64) < count.min(free) {
            let certificate = rng.next_u64() % total.max(1);
            let run = self.cumulative.partition_point(|&c| c <= certificate);
            if let Some(indexes) = self.take_certificate(run, Taken::Revoked, rng) {
                picked.push(indexes);
            }
        }
        picked
    }
}

/// Whole certificates' indexes, in revocation transactions of at most
/// [`MAX_REVOCATIONS_PER_TX`] indexes each: a certificate's copies are revoked together.
fn whole_certificates(certificates: &[Vec<StatusIndex>]) -> Vec<Vec<&Vec<StatusIndex>>> {
    let mut txs: Vec<Vec<&Vec<StatusIndex>>> = Vec::new();
    let mut size = 0;
    for certificate in certificates {
        let fits = size + certificate.len() <= MAX_REVOCATIONS_PER_TX;
        match txs.last_mut() {
            Some(tx) if fits => tx.push(certificate),
            _ => {
                txs.push(vec![certificate]);
                size = 0;
            }
        }
        size += certificate.len();
    }
    txs
}

/// The part `i` of `total` split evenly over `parts`.
fn share(total: u64, parts: u64, i: u64) -> u64 {
    let at = |k: u64| (u128::from(total) * u128::from(k) / u128::from(parts.max(1))) as u64;
    at(i + 1) - at(i)
}

/// The simulation's state through the year.
struct Year {
    options: Options,
    rng: ChaCha20Rng,
    province: Province,
    kinds: KindRegistry,
    anchor: TrustAnchor,
    weights: Vec<u64>,
    statuses: Vec<Statuses>,
    storage: NodeStorage,
    /// Certificates still to anchor.
    left: u64,
    certificates: u64,
    /// Copies anchored (leaves).
    copies: u64,
    /// Certificates revoked.
    revoked: u64,
    batches: u64,
    transactions: u64,
    ledger_bytes: LedgerBytes,
    rotations: Vec<Rotation>,
    validator_change: Option<Rotation>,
    citizen: Citizen,
    counter: Option<TrustStore>,
    syncs: Vec<DaySync>,
    /// Keys rotated away, by issuer and key id.
    retired: Vec<ecert_schemas::KeyId>,
}

impl Year {
    fn new(options: Options) -> Result<Year, TestnetError> {
        options.check()?;
        let mut rng = ChaCha20Rng::seed_from_u64(options.seed);
        let province = Province::new(CHAIN_ID, calendar::YEAR_START, &mut rng)?;
        let weights: Vec<u64> = province
            .departments
            .iter()
            .map(|d| weight(d.id.as_str()))
            .collect();
        let citizen = Citizen {
            holder: HolderKey::generate(&mut rng),
            held: Vec::new(),
            presented: Presented::default(),
        };
        Ok(Year {
            kinds: province.kinds.clone(),
            anchor: province.trust_anchor()?,
            statuses: (0..weights.len())
                .map(|_| Statuses::new(options.copies))
                .collect(),
            weights,
            storage: NodeStorage::default(),
            left: options.certificates,
            certificates: 0,
            copies: 0,
            revoked: 0,
            batches: 0,
            transactions: 0,
            ledger_bytes: LedgerBytes::default(),
            rotations: Vec::new(),
            validator_change: None,
            citizen,
            counter: None,
            syncs: Vec::new(),
            retired: Vec::new(),
            options,
            rng,
            province,
        })
    }

    /// Orders `txs` into a certified block at `time`, counts its storage and returns the
    /// outcomes; a skipped transaction is a fault of the simulation.
    fn block(
        &mut self,
        txs: &[Transaction],
        time: UnixTime,
    ) -> Result<Vec<TxOutcome>, TestnetError> {
        let block = self.province.commit_block(txs, time)?;
        if let Some(TxOutcome::Skipped(e)) = block
            .outcomes
            .iter()
            .find(|o| matches!(o, TxOutcome::Skipped(_)))
        {
            return Err(TestnetError::Skipped(e.clone()));
        }
        let checkpoint = self.province.checkpoint()?;
        self.storage.add_block(
            txs,
            self.province.ledger().last_time_ms(),
            &block.header_bytes,
            checkpoint,
        )?;
        self.count_transactions(txs)?;
        Ok(block.outcomes)
    }

    /// Counts `txs` and their encoded bytes by kind.
    fn count_transactions(&mut self, txs: &[Transaction]) -> Result<(), TestnetError> {
        for tx in txs {
            let bytes = tx.to_bytes()?.len() as u64;
            let kind = match tx {
                Transaction::AnchorBatch(_) => &mut self.ledger_bytes.anchors,
                Transaction::Revocation(_) => &mut self.ledger_bytes.revocations,
                _ => &mut self.ledger_bytes.governance,
            };
            *kind += bytes;
        }
        self.transactions += txs.len() as u64;
        Ok(())
    }

    /// The signed anchor transaction of one batch of random certificates of `dept` (a
    /// leaf per copy).
    fn random_batch(&mut self, dept: usize) -> Result<Option<Transaction>, TestnetError> {
        let count = self.left.min(self.options.batch_size);
        if count == 0 {
            return Ok(None);
        }
        let department = self
            .province
            .departments
            .get(dept)
            .ok_or_else(|| sim_error("no such department"))?;
        let kinds = &department.kinds;
        let kind = kinds
            .get((self.rng.next_u64() % kinds.len().max(1) as u64) as usize)
            .cloned()
            .ok_or_else(|| sim_error("a department without kinds"))?;
        let body = AnchorBatchBody {
            chain_id: self.province.ledger().chain_id().clone(),
            issuer: department.id.clone(),
            key_id: department.issuer_key.key_id(),
            kinds: vec![kind],
            batch_root: random_hash(&mut self.rng),
            count: self.options.copies_of(count),
        };
        let tx = sign_anchor_body(&department.issuer_key, body)?;
        let issuer = department.id.to_string();
        self.statuses
            .get_mut(dept)
            .ok_or_else(|| sim_error("no such department"))?
            .reserve(count, &issuer)?;
        self.left -= count;
        self.certificates += count;
        self.copies += self.options.copies_of(count);
        self.batches += 1;
        Ok(Some(Transaction::AnchorBatch(tx)))
    }

    fn anchor(&mut self, dept: usize, batches: u64, time: UnixTime) -> Result<(), TestnetError> {
        let mut txs = Vec::new();
        for _ in 0..batches {
            if let Some(tx) = self.random_batch(dept)? {
                txs.push(tx);
            }
        }
        if !txs.is_empty() {
            self.block(&txs, time)?;
        }
        Ok(())
    }

    /// Department `dept` issues the citizen's certificate of `order` at `time` as copies
    /// in a batch of its own (the others' copies random leaves), anchored at once.
    fn issue_real(
        &mut self,
        dept: usize,
        order: &crate::province::Order,
        time: UnixTime,
    ) -> Result<(), TestnetError> {
        let count = self.left.min(self.options.batch_size).max(1);
        let department = self
            .province
            .departments
            .get(dept)
            .ok_or_else(|| sim_error("no such department"))?;
        let issuer = department.id.to_string();
        let statuses = self
            .statuses
            .get_mut(dept)
            .ok_or_else(|| sim_error("no such department"))?;
        statuses.reserve(count, &issuer)?;
        let indexes = statuses.keep_in_last(&mut self.rng);
        let batch = RealBatch::new(
            &department.issuer_key,
            &self.kinds,
            self.province.ledger().chain_id(),
            order,
            self.citizen.holder.public_key(),
            indexes,
            time,
            self.options.copies_of(count),
            &mut self.rng,
        )?;
        let outcomes = self.block(&[Transaction::AnchorBatch(batch.tx.clone())], time)?;
        let Some(TxOutcome::Anchored { batch_seq }) = outcomes.first() else {
            return Err(sim_error("the citizen's batch was not anchored"));
        };
        self.citizen.held.push(batch.held(*batch_seq)?);
        self.left = self.left.saturating_sub(count);
        self.certificates += count;
        self.copies += self.options.copies_of(count);
        self.batches += 1;
        Ok(())
    }

    /// Department `dept` rotates its issuer key at `time`: a governance transaction
    /// approved by the three other validators, then anchoring goes on with the new key.
    fn rotate(&mut self, dept: usize, day: u64, time: UnixTime) -> Result<(), TestnetError> {
        let validator_keys = self.province.validator_keys();
        let department = self
            .province
            .departments
            .get(dept)
            .ok_or_else(|| sim_error("no such department"))?;
        let new_key = IssuerKey::generate(department.id.clone(), &mut self.rng);
        let body = GovernanceBody {
            chain_id: self.province.ledger().chain_id().clone(),
            seq: self.province.ledger().registry().governance_seq,
            action: GovernanceAction::RotateIssuerKey(RotateIssuerKey {
                issuer: department.id.clone(),
                old_key_id: department.issuer_key.key_id(),
                new_key: new_key.public_key(),
                valid_from: time,
            }),
        };
        let issuer = department.id.to_string();
        let old_key_id = department.issuer_key.key_id();
        let approvals = (0u16..)
            .zip(&validator_keys)
            .filter(|(i, _)| usize::from(*i) != dept)
            .map(|(i, key)| approve(key, i, &body))
            .collect::<Result<Vec<_>, _>>()?;
        let tx = assemble_governance(body, approvals, validator_keys.len())
            .ok_or_else(|| sim_error("the approvals are not a quorum"))?;
        let outcomes = self.block(&[Transaction::Governance(tx)], time)?;
        if !matches!(outcomes.first(), Some(TxOutcome::Governed { .. })) {
            return Err(sim_error("the key rotation was not applied"));
        }
        self.retired.push(old_key_id);
        if let Some(d) = self.province.departments.get_mut(dept) {
            d.issuer_key = new_key;
        }
        self.rotations.push(Rotation {
            day,
            issuer,
            height: self.province.ledger().height(),
        });
        Ok(())
    }

    /// Department `dept`'s validator key is replaced at `time` (after a simulated
    /// compromise): a validator-set change approved by the three other validators.
    fn replace_validator(
        &mut self,
        dept: usize,
        day: u64,
        time: UnixTime,
    ) -> Result<(), TestnetError> {
        let new_key = ed25519_dalek::SigningKey::generate(&mut self.rng);
        let (tx, block) = self.province.replace_validator_key(dept, new_key, time)?;
        if !block.validators_changed {
            return Err(sim_error("the validator change was not applied"));
        }
        let checkpoint = self.province.checkpoint()?;
        self.storage.add_block(
            std::slice::from_ref(&tx),
            self.province.ledger().last_time_ms(),
            &block.header_bytes,
            checkpoint,
        )?;
        self.count_transactions(&[tx])?;
        let issuer = self
            .province
            .departments
            .get(dept)
            .map(|d| d.id.to_string())
            .unwrap_or_default();
        self.validator_change = Some(Rotation {
            day,
            issuer,
            height: block.header.height,
        });
        Ok(())
    }

    /// Department `dept` revokes `count` of its certificates at `time`, each with every
    /// copy's index, a certificate's copies in one transaction.
    fn revoke(&mut self, dept: usize, count: u64, time: UnixTime) -> Result<(), TestnetError> {
        let statuses = self
            .statuses
            .get_mut(dept)
            .ok_or_else(|| sim_error("no such department"))?;
        let certificates = statuses.pick(count, &mut self.rng);
        self.revoked += certificates.len() as u64;
        let reasons = [
            RevocationReason::Superseded,
            RevocationReason::Withdrawn,
            RevocationReason::HolderKeyCompromised,
            RevocationReason::DataError,
        ];
        let mut txs = Vec::new();
        for chunk in whole_certificates(&certificates) {
            let mut entries = Vec::new();
            for certificate in chunk {
                let reason = reasons
                    .get((self.rng.next_u64() % reasons.len() as u64) as usize)
                    .copied()
                    .unwrap_or(RevocationReason::Unspecified);
                entries.extend(
                    certificate
                        .iter()
                        .map(|&index| RevocationEntry { index, reason }),
                );
            }
            let department = self
                .province
                .departments
                .get(dept)
                .ok_or_else(|| sim_error("no such department"))?;
            txs.push(Transaction::Revocation(revocation_transaction(
                &department.issuer_key,
                self.province.ledger().chain_id(),
                entries,
                time,
            )?));
        }
        if !txs.is_empty() {
            self.block(&txs, time)?;
        }
        Ok(())
    }

    /// The counter's morning sync on `day`: a full sync the first time, then the changes
    /// since the previous morning.
    fn morning(&mut self, day: u64) -> Result<(), TestnetError> {
        let Ok(checkpoint) = self.province.checkpoint() else {
            return Ok(());
        };
        let checkpoint = checkpoint.clone();
        let Some(held) = &self.counter else {
            let bundle = self.province.trust_bundle()?;
            self.counter = Some(TrustStore::from_bundle(
                bundle,
                &self.anchor,
                self.kinds.clone(),
            )?);
            return Ok(());
        };
        if held.header().height == self.province.ledger().height() {
            return Ok(());
        }
        let started = Instant::now();
        let update = self
            .province
            .ledger()
            .trust_update(
                held.header(),
                checkpoint,
                self.province.validator_changes()?,
            )
            .ok_or_else(|| sim_error("no update for the counter's header"))?;
        let serve = started.elapsed();
        let bytes = update.to_bytes()?;
        let started = Instant::now();
        let decoded = TrustUpdate::from_bytes(&bytes)?;
        let next = held.apply_update(&decoded, &self.anchor)?;
        let check = started.elapsed();
        self.syncs.push(DaySync {
            day,
            batches: update.anchors.len() as u64,
            revocations: update
                .revocations
                .iter()
                .map(|g| g.indexes.len() as u64)
                .sum(),
            registry: !update.registry.is_empty(),
            bytes: bytes.len() as u64,
            anchor_bytes: to_cbor(&update.anchors)?.len() as u64,
            revocation_bytes: to_cbor(&update.revocations)?.len() as u64,
            serve,
            check,
        });
        self.counter = Some(next);
        Ok(())
    }
}

/// Runs the simulation; `progress` is told after each simulated day.
pub fn run(options: Options, mut progress: impl FnMut(Progress)) -> Result<Report, TestnetError> {
    let started = Instant::now();
    let mut year = Year::new(options.clone())?;
    let working: Vec<u64> = (0..options.days)
        .filter(|&d| options.seven_day_week || calendar::is_working_day(d))
        .collect();
    let (Some(&first), Some(&last)) = (working.first(), working.last()) else {
        return Err(sim_error("no working day in the simulated days"));
    };
    let parts = working.len() as u64;
    let departments = year.province.departments.len();
    let index_of = |id: &str| {
        DEPARTMENTS
            .iter()
            .position(|(d, _, _)| *d == id)
            .ok_or_else(|| TestnetError::UnknownDepartment(id.to_owned()))
    };
    // Department d rotates on the working day (d + 1) / (departments + 1) into the year.
    // A validator key is replaced on the working day halfway through the year.
    let validator_change_day = working.get(working.len() / 2).copied();
    let rotation_day = |dept: usize| {
        let at = (dept as u64 + 1) * parts / (departments as u64 + 1);
        working
            .get(at.min(parts - 1) as usize)
            .copied()
            .unwrap_or(last)
    };
    // Real certificates: one of each department on the first morning; a new ID card and
    // a no-criminal-record under rotated keys on the last working afternoon.
    let late = [
        ("public-security", "id-card"),
        ("justice", "no-criminal-record"),
    ];

    for day in 0..options.days {
        if day > 0 {
            year.morning(day)?;
        }
        if let Some(w) = working.iter().position(|&d| d == day) {
            let w = w as u64;
            let mut real = 0;
            if day == first {
                for (id, order) in sample::by_department(calendar::real_issuance_at(day, 0)) {
                    let dept = index_of(id)?;
                    year.issue_real(dept, &order, calendar::real_issuance_at(day, dept))?;
                    real += 1;
                }
            }
            if day == last {
                real += late.len() as u64;
            }
            let batches = share(options.batches(), parts, w).saturating_sub(real);
            let rotating: Vec<usize> = (0..departments)
                .filter(|&d| rotation_day(d) == day)
                .collect();
            let revocations = share(options.revocations(), parts, w);
            let total: u64 = year.weights.iter().sum();
            let mut per_dept = vec![0u64; departments];
            for _ in 0..revocations {
                let d = calendar::pick(&year.weights, year.rng.next_u64() % total.max(1));
                if let Some(n) = per_dept.get_mut(d) {
                    *n += 1;
                }
            }
            let mut events =
                calendar::working_day(day, batches, &year.weights, &rotating, &mut year.rng);
            let mut late_done = day != last;
            if Some(day) == validator_change_day {
                let time = calendar::validator_change_at(day);
                year.replace_validator(VALIDATOR_REPLACED, day, time)?;
            }
            for (time, event) in events.drain(..) {
                if !late_done && time >= calendar::late_issuance_at(day, 0) {
                    issue_late(&mut year, day, &late, index_of)?;
                    late_done = true;
                }
                match event {
                    Event::Anchor { dept, batches } => year.anchor(dept, batches, time)?,
                    Event::Rotate { dept } => year.rotate(dept, day, time)?,
                    Event::Revoke { dept } => {
                        let count = per_dept.get(dept).copied().unwrap_or(0);
                        year.revoke(dept, count, time)?;
                    }
                }
            }
            if !late_done {
                issue_late(&mut year, day, &late, index_of)?;
            }
        }
        progress(Progress {
            day: day + 1,
            days: options.days,
            certificates: year.certificates,
            height: year.province.ledger().height(),
        });
    }
    // The morning after the year.
    year.morning(options.days)?;
    let year_end = year_end(&mut year)?;
    finish(year, year_end, parts, started)
}

/// The late issuance of the last working day, under rotated keys.
fn issue_late(
    year: &mut Year,
    day: u64,
    late: &[(&str, &str)],
    index_of: impl Fn(&str) -> Result<usize, TestnetError>,
) -> Result<(), TestnetError> {
    for (id, kind) in late {
        let dept = index_of(id)?;
        let time = calendar::late_issuance_at(day, dept);
        let order = sample::by_department(time)
            .into_iter()
            .map(|(_, order)| order)
            .find(|order| order.kind == *kind)
            .ok_or_else(|| sim_error(format!("no sample {kind}")))?;
        year.issue_real(dept, &order, time)?;
    }
    Ok(())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// The year-end figures: the full bundle, its check, and blocks applied on the final state.
fn year_end(year: &mut Year) -> Result<YearEnd, TestnetError> {
    let bundle = year.province.trust_bundle()?;
    let bytes = bundle.to_bytes()?;
    let bundle_anchor_bytes = to_cbor(&bundle.anchors)?.len() as u64;
    let bundle_status_bytes = to_cbor(&bundle.revocations)?.len() as u64;
    let started = Instant::now();
    let decoded = TrustBundle::from_bytes(&bytes)?;
    let bundle_decode = started.elapsed();
    let started = Instant::now();
    let store = TrustStore::from_bundle(decoded, &year.anchor, year.kinds.clone())?;
    let full_sync_check = started.elapsed();

    // The largest list, and a block on the final state: one anchor, or one revocation.
    let ledger = year.province.ledger();
    let (largest, _) = year
        .statuses
        .iter()
        .enumerate()
        .max_by_key(|(_, s)| s.revoked.len())
        .ok_or_else(|| sim_error("no department"))?;
    let largest_list = year.statuses.get(largest).map_or(0, |s| s.revoked.len()) as u64;
    let time_ms = ledger.last_time_ms() + 60_000;
    let time = UnixTime(time_ms / 1000);
    let department = year
        .province
        .departments
        .get(largest)
        .ok_or_else(|| sim_error("no department"))?;
    let kind = department
        .kinds
        .first()
        .cloned()
        .ok_or_else(|| sim_error("a department without kinds"))?;
    let mut anchor_tx = || -> Result<Transaction, TestnetError> {
        Ok(Transaction::AnchorBatch(sign_anchor_body(
            &department.issuer_key,
            AnchorBatchBody {
                chain_id: ledger.chain_id().clone(),
                issuer: department.id.clone(),
                key_id: department.issuer_key.key_id(),
                kinds: vec![kind.clone()],
                batch_root: random_hash(&mut year.rng),
                count: year.options.copies_of(year.options.batch_size),
            },
        )?))
    };
    let (warm_anchor, measured_anchor) = (anchor_tx()?, anchor_tx()?);
    let mut statuses = year
        .statuses
        .get(largest)
        .cloned()
        .ok_or_else(|| sim_error("no department"))?;
    let certificates = (u64::from(YEAR_END_REVOCATIONS) / u64::from(year.options.copies)).max(1);
    let mut revocation_tx = || -> Result<Transaction, TestnetError> {
        let entries: Vec<RevocationEntry> = statuses
            .pick(certificates, &mut year.rng)
            .into_iter()
            .flatten()
            .map(|index| RevocationEntry {
                index,
                reason: RevocationReason::Withdrawn,
            })
            .collect();
        Ok(Transaction::Revocation(revocation_transaction(
            &department.issuer_key,
            ledger.chain_id(),
            entries,
            time,
        )?))
    };
    let (warm_revocation, measured_revocation) = (revocation_tx()?, revocation_tx()?);
    let revocation_block_indexes = match &measured_revocation {
        Transaction::Revocation(tx) => tx.body.entries.len() as u64,
        _ => 0,
    };
    // Each time on a copy of the year-end state, after one block of each kind: a copy's
    // vectors are exactly full, and its first block would time their reallocation (a
    // copy of the whole anchor and revocation logs) rather than the block.
    let mut timings = [Vec::new(), Vec::new()];
    for _ in 0..5 {
        let mut copy = ledger.clone();
        let warm = copy.apply_block(&[warm_anchor.clone(), warm_revocation.clone()], time_ms)?;
        if let Some(TxOutcome::Skipped(e)) = warm.outcomes.first() {
            return Err(TestnetError::Skipped(e.clone()));
        }
        for ((tx, times), at) in [&measured_anchor, &measured_revocation]
            .into_iter()
            .zip(&mut timings)
            .zip(1..)
        {
            let started = Instant::now();
            let block = copy.apply_block(std::slice::from_ref(tx), time_ms + at)?;
            times.push(started.elapsed());
            if let Some(TxOutcome::Skipped(e)) = block.outcomes.first() {
                return Err(TestnetError::Skipped(e.clone()));
            }
        }
    }
    let [anchor_times, revocation_times] = timings;
    Ok(YearEnd {
        bundle_bytes: bytes.len() as u64,
        bundle_batches: store.anchor_count(),
        bundle_revoked: store.revoked_count(),
        bundle_anchor_bytes,
        bundle_status_bytes,
        bundle_decode,
        full_sync_check,
        anchor_block: median(anchor_times),
        revocation_block: median(revocation_times),
        revocation_block_indexes,
        largest_list,
    })
}

/// Checks the counter against the full bundle, shows the citizen's certificates, runs the
/// idle week and assembles the report.
fn finish(
    mut year: Year,
    year_end: YearEnd,
    working_days: u64,
    started: Instant,
) -> Result<Report, TestnetError> {
    let bundle = year.province.trust_bundle()?;
    let counter = year
        .counter
        .take()
        .ok_or_else(|| sim_error("the counter never synced"))?;
    let update_equals_bundle = counter.to_bundle().to_bytes()? == bundle.to_bytes()?;
    year.storage.set_snapshot(
        &year.province.ledger().snapshot(),
        year.province.departments.len(),
    )?;

    // An hour after the last block, with the counter's data as of that block.
    let last_block = UnixTime(year.province.ledger().last_time_ms().div_ceil(1000));
    let shown_at = last_block.plus(calendar::HOUR);
    let mut shown = Vec::new();
    for n in 0..year.citizen.held.len() {
        let outcome = year.citizen.show(&year.kinds, &[n], &counter, shown_at)?;
        let held = year
            .citizen
            .held
            .get(n)
            .ok_or_else(|| sim_error("no such certificate"))?;
        shown.push(Shown {
            kind: held.kind.to_string(),
            issuer: held.package.issuer.to_string(),
            expected: (held.package.expires <= shown_at).then_some("expired"),
            issued_day: (held.issued_at.secs() - calendar::YEAR_START.secs()) / calendar::DAY,
            key_rotated: year.retired.contains(&held.key_id),
            refused: outcome.err().map(|e| e.code()),
        });
    }
    // The idle week: an ID card under a rotated key and the newest certificate together.
    let old_id_card = year
        .citizen
        .held
        .iter()
        .position(|h| h.kind.as_str() == "id-card" && year.retired.contains(&h.key_id));
    let newest = year.citizen.held.len().checked_sub(1);
    let shown_idle: Vec<usize> = old_id_card.into_iter().chain(newest).collect();
    let idle = idle_week(
        &counter,
        &year.province.validator_keys(),
        &mut year.citizen,
        &shown_idle,
        &year.kinds,
        last_block,
        year.options.idle_days,
    )?;
    let ledger = year.province.ledger();
    Ok(Report {
        working_days,
        blocks: year.storage.blocks,
        transactions: year.transactions,
        height: ledger.height(),
        batches: year.batches,
        certificates: year.certificates,
        revoked: year.revoked,
        revoked_indexes: counter.revoked_count(),
        copies: year.copies,
        ledger: year.ledger_bytes,
        presented: year.citizen.presented,
        rotations: year.rotations,
        validator_change: year.validator_change,
        storage: year.storage,
        syncs: year.syncs,
        update_equals_bundle,
        year_end,
        shown,
        idle,
        elapsed: started.elapsed(),
        options: year.options,
    })
}
