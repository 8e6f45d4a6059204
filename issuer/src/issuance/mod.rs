//! The issuance workflow: from checked input rows to delivered packages, in bounded
//! batches, surviving a crash at any point. Every certificate is issued as one-time
//! copies (format 2), [`Job::copies`] of them.
//!
//! For each batch of at most [`rows_per_batch`] rows, in order:
//!
//! 1. its status indexes are reserved, one per copy (written to disk: an index is never
//!    handed out twice, even if what follows is interrupted), and dealt to the copies in
//!    an order drawn at random, so that consecutive indexes say nothing about which copies
//!    belong to one certificate;
//! 2. its rows are signed on every core, and its copies put in an order drawn at random
//!    in the batch's tree ([`crate::shuffled_order`]);
//! 3. the signed batch is written to the spool ([`spool`], one file, one flush: everything
//!    needed to rebuild the same batch) and the register's record written as
//!    `submitted`; the job notes the rows as signed;
//! 4. on a second thread, while the next batch is signed: the anchor transaction is sent
//!    and waited for until certified, the receipt is proven against the trust anchor,
//!    and the packages are written (`deliver`); then the record is marked `anchored`
//!    and the spool deleted.
//!
//! The job ([`job::Job`], `issuing/job.json`) lives until every row is delivered. After
//! an interruption, [`resume`] first finishes every spooled batch (asking the ledger
//! whether it has it, sending it if not, delivering it again whole, the same bytes), then
//! signs the rows not signed yet. Nothing signed is lost, nothing is delivered twice under
//! two names, no status index is reused. A batch of whole certificates (format 1) spooled
//! by an earlier version is delivered the same way.
//!
//! The ledger is a parameter ([`Ledger`], implemented by [`NodeClient`]), and so is
//! progress reporting ([`Progress`]), so that the workflow runs against a fake ledger in
//! tests and reports to a terminal, a log or nothing.

pub mod job;
pub mod spool;

mod deliver;
mod sign;

use std::path::PathBuf;
use std::sync::mpsc;

use ecert_schemas::ledger::{AnchorReceipt, Transaction, MAX_STATUS_INDEX};
use ecert_schemas::{Hash32, Kind, KindRegistry, PublicKeyBytes, SchemaError, UnixTime};
use ecert_shell::files::{self, write_atomically, Existing};
use ecert_verifier::commit::transaction_hash;
use ecert_verifier::TrustAnchor;
use rand_core::RngCore;
use thiserror::Error;

use crate::anchoring::{batch_file, ReceiptError, SignedBatch};
use crate::claims_input::InputError;
use crate::home::{Home, HomeError};
use crate::node::{NodeClient, NodeError, Wait};
use crate::register::{BatchFile, BatchState};
use crate::{shuffled_order, Batch, CopyBatch, IssueError, IssuerKey};
use deliver::{anchor_and_deliver, Prepared};
pub use job::Job;
use sign::{shuffled_indexes, sign_rows, Signer, Times};
use spool::SpooledBatch;

/// How long the node is asked to wait for certification of an anchor transaction.
pub const SUBMIT_WAIT_MS: u64 = 60_000;
/// The default number of certificates in one anchor batch.
pub const DEFAULT_BATCH_SIZE: u64 = 50_000;
/// The most certificates in one anchor batch.
pub const MAX_BATCH_SIZE: u64 = 1_000_000;
/// The most copies (leaves of its tree) in one anchor batch: a batch of certificates
/// with many copies holds fewer certificates ([`rows_per_batch`]).
pub const MAX_BATCH_COPIES: u64 = 4_000_000;

/// How many certificates of `copies` copies go into one anchor batch when at most
/// `batch_size` are asked for: never more than [`MAX_BATCH_SIZE`], nor than fit in
/// [`MAX_BATCH_COPIES`] copies, and at least one.
pub fn rows_per_batch(batch_size: u64, copies: u16) -> u64 {
    let by_copies = MAX_BATCH_COPIES / u64::from(copies.max(1));
    batch_size.clamp(1, MAX_BATCH_SIZE).min(by_copies).max(1)
}
const JOB_FILE: &str = "job.json";

/// Why issuing stopped.
#[derive(Debug, Error)]
pub enum IssuanceError {
    /// The input has problems (nothing of it was signed).
    #[error(transparent)]
    Input(#[from] InputError),
    /// The input file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// The input file of an interrupted job is not the one it was started with.
    #[error(
        "{0} has changed since the interrupted 'issue' began: put the original file back and \
         run 'ecert-issuer issue --resume' again"
    )]
    InputChanged(PathBuf),
    /// A row could not be signed.
    #[error("{}{source}", .row.map(|r| format!("row {r}: ")).unwrap_or_default())]
    Row {
        /// The spreadsheet row, if any.
        row: Option<u64>,
        /// Why.
        source: IssueError,
    },
    /// A batch could not be built or its transaction signed.
    #[error(transparent)]
    Issue(#[from] IssueError),
    /// A record could not be encoded.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The home, or a package file.
    #[error(transparent)]
    Home(#[from] HomeError),
    /// The ledger did not anchor the batch (refused it, or could not be asked).
    #[error("batch {} was not anchored: {source}", short(.root))]
    NotAnchored {
        /// The batch.
        root: Hash32,
        /// Why.
        source: NodeError,
    },
    /// The ledger's receipt did not prove the batch anchored.
    #[error("batch {} was sent but its anchoring was not proven: {source}", short(.root))]
    NotProven {
        /// The batch.
        root: Hash32,
        /// Why.
        source: ReceiptError,
    },
    /// An `issue` command was interrupted and is not finished.
    #[error(
        "an earlier 'issue' command was interrupted before all its certificates were \
         delivered: finish it with 'ecert-issuer issue --resume' first"
    )]
    Pending,
    /// Nothing to resume.
    #[error("there is no interrupted 'issue' command to finish")]
    NothingPending,
    /// More certificates than status indexes.
    #[error("too many certificates for the department's status list")]
    TooMany,
    /// The job's copies need more status indexes than the department's list has left.
    #[error(
        "{certificates} certificate(s) of {copies} one-time copies need {needed} status indexes \
         (one per copy), but this department's status list has {left} left (it ends at index \
         {MAX_STATUS_INDEX}); nothing was issued. Issue fewer copies per certificate \
         (--copies), or fewer certificates"
    )]
    StatusListFull {
        /// Certificates to issue.
        certificates: u64,
        /// Copies of each.
        copies: u16,
        /// Status indexes needed.
        needed: u64,
        /// Status indexes left.
        left: u64,
    },
    /// A worker thread stopped unexpectedly.
    #[error("internal error: a worker stopped unexpectedly")]
    WorkerFailed,
}

impl From<ecert_shell::files::FileError> for IssuanceError {
    fn from(e: ecert_shell::files::FileError) -> IssuanceError {
        IssuanceError::Home(e.into())
    }
}

fn short(root: &Hash32) -> String {
    format!("{}…", root.to_hex().chars().take(16).collect::<String>())
}

/// The ledger, as issuing needs it.
pub trait Ledger: Sync {
    /// Sends a transaction and waits until it is certified.
    fn submit(&self, tx: &Transaction) -> Result<(), NodeError>;
    /// The anchor receipt of the batch with this root (not yet verified), asked once.
    fn receipt(&self, root: &Hash32) -> Result<AnchorReceipt, NodeError>;
}

impl Ledger for NodeClient {
    fn submit(&self, tx: &Transaction) -> Result<(), NodeError> {
        NodeClient::submit(self, tx, Wait::Certified, SUBMIT_WAIT_MS).map(|_| ())
    }

    fn receipt(&self, root: &Hash32) -> Result<AnchorReceipt, NodeError> {
        self.anchor_receipt(root)
    }
}

/// What issuing reports as it goes. Every method does nothing unless overridden.
pub trait Progress: Sync {
    /// Signing starts: `total` rows in all, `done` of them signed before.
    fn start(&self, _total: u64, _done: u64) {}
    /// `n` more rows signed (called from the signing workers).
    fn signed(&self, _n: u64) {}
    /// A batch of `certificates` certificates is sent to the ledger, as `leaves` leaves
    /// of its tree (their copies; as many as the certificates in format 1).
    fn anchoring(&self, _certificates: usize, _leaves: u64) {}
    /// A batch is anchored, proven and delivered: its record, with each certificate's
    /// package file and offer code.
    fn delivered(&self, _batch: &BatchFile) {}
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {}

/// What issuing works with.
pub struct Context<'a, L: Ledger, P: Progress> {
    /// The home.
    pub home: &'a Home,
    /// The department's key, unlocked.
    pub key: &'a IssuerKey,
    /// The kinds.
    pub kinds: &'a KindRegistry,
    /// The ledger's trust anchor.
    pub anchor: &'a TrustAnchor,
    /// The ledger.
    pub ledger: &'a L,
    /// Where progress goes.
    pub progress: &'a P,
    /// Worker threads for signing and writing packages.
    pub threads: usize,
}

/// What a finished job did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Batches anchored and delivered by this run.
    pub batches: u64,
    /// Certificates in them.
    pub certificates: u64,
    /// The copies of those certificates (leaves of the batches' trees).
    pub leaves: u64,
}

impl Outcome {
    /// One more batch, of `certificates` certificates as `leaves` leaves.
    fn add(&mut self, (certificates, leaves): (u64, u64)) {
        self.batches += 1;
        self.certificates += certificates;
        self.leaves += leaves;
    }

    fn plus(self, other: Outcome) -> Outcome {
        Outcome {
            batches: self.batches + other.batches,
            certificates: self.certificates + other.certificates,
            leaves: self.leaves + other.leaves,
        }
    }
}

fn job_path(home: &Home) -> Result<PathBuf, HomeError> {
    Ok(home.issuing_dir()?.join(JOB_FILE))
}

fn write_job(home: &Home, job: &Job, existing: Existing) -> Result<(), IssuanceError> {
    let text = serde_json::to_vec_pretty(job).map_err(|e| HomeError::BadValue(e.to_string()))?;
    write_atomically(&job_path(home)?, &text, existing).map_err(|e| match e {
        files::FileError::AlreadyExists(_) => IssuanceError::Pending,
        e => e.into(),
    })
}

/// The interrupted job, if any.
pub fn pending_job(home: &Home) -> Result<Option<Job>, IssuanceError> {
    let path = job_path(home)?;
    let damaged = |detail: String| HomeError::Damaged {
        path: path.clone(),
        detail,
    };
    match crate::home::read_limited(&path) {
        Ok(bytes) => {
            let job: Job = serde_json::from_slice(&bytes).map_err(|e| damaged(e.to_string()))?;
            if job.version > job::JOB_VERSION {
                return Err(damaged(format!(
                    "job version {} was written by a newer ecert-issuer",
                    job.version
                ))
                .into());
            }
            Ok(Some(job))
        }
        Err(HomeError::File(e)) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Whether an interrupted job, or a batch not delivered, waits for [`resume`].
pub fn is_pending(home: &Home) -> Result<bool, IssuanceError> {
    Ok(pending_job(home)?.is_some() || !spool::list(home)?.is_empty())
}

/// Starts `job` (refused while another is pending) and runs it to the end.
pub fn start<L: Ledger, P: Progress>(
    ctx: &Context<'_, L, P>,
    kind: &Kind,
    job: Job,
) -> Result<Outcome, IssuanceError> {
    if !spool::list(ctx.home)?.is_empty() {
        return Err(IssuanceError::Pending);
    }
    job::check_copies(u64::from(job.copies))
        .map_err(|m| InputError::one(None, None, format!("--copies: {m}")))?;
    let needed = job.total.saturating_mul(u64::from(job.copies));
    let left = ctx.home.status_indexes_left()?;
    if needed > left {
        return Err(IssuanceError::StatusListFull {
            certificates: job.total,
            copies: job.copies,
            needed,
            left,
        });
    }
    write_job(ctx.home, &job, Existing::Refuse)?;
    run(ctx, kind, job, Outcome::default())
}

/// Finishes the interrupted job: every spooled batch anchored (if the ledger does not
/// have it yet) and delivered again whole, then the rows not signed yet.
pub fn resume<L: Ledger, P: Progress>(
    ctx: &Context<'_, L, P>,
    kind_of: impl Fn(&ecert_schemas::KindId) -> Option<Kind>,
) -> Result<Outcome, IssuanceError> {
    let Some(mut job) = pending_job(ctx.home)? else {
        return Err(IssuanceError::NothingPending);
    };
    if let Err(detail) = job::check_copies(u64::from(job.copies)) {
        let path = job_path(ctx.home)?;
        return Err(HomeError::Damaged { path, detail }.into());
    }
    let kind = kind_of(&job.kind).ok_or_else(|| {
        IssuanceError::Input(InputError::one(
            None,
            None,
            format!("unknown kind {}", job.kind),
        ))
    })?;
    let mut outcome = Outcome::default();
    let mut spools = Vec::new();
    for (root, path) in spool::list(ctx.home)? {
        spools.push((spool::summary(&path)?, root, path));
    }
    spools.sort_by_key(|(summary, _, _)| summary.first_row);
    let mut failure = None;
    for (summary, root, path) in spools {
        job.signed = job.signed.max(summary.first_row + summary.certificates);
        if failure.is_some() {
            continue;
        }
        if let Some(record) = ctx.home.batch(&root)? {
            if record.state == BatchState::Anchored {
                spool::remove(ctx.home, &root)?;
                continue;
            }
        }
        let spooled = spool::read(&path, ctx.key.issuer(), ctx.threads)?;
        let (batch, holders) = match spooled.batch {
            SpooledBatch::Copies {
                certificates,
                holders,
                order,
            } => (
                SignedBatch::Copies(CopyBatch::new(ctx.key, certificates, order)?),
                holders,
            ),
            SpooledBatch::Whole(certificates) => (
                SignedBatch::Whole(Batch::new(ctx.key, certificates)?),
                Vec::new(),
            ),
        };
        if batch.root() != root {
            return Err(HomeError::Damaged {
                path,
                detail: "its certificates are not the batch its name says".into(),
            }
            .into());
        }
        let tx = Transaction::AnchorBatch(batch.anchor_transaction(ctx.key, &ctx.anchor.chain_id)?);
        let mut record = batch_file(&batch, &holders, ctx.key, UnixTime(job.issued_at))?;
        record.tx_hash = Some(transaction_hash(&tx.to_bytes()?));
        let prepared = Prepared {
            batch,
            record,
            first_row: spooled.first_row,
            offer_seed: spooled.offer_seed,
            resumed: true,
        };
        let size = prepared.size();
        match anchor_and_deliver(ctx, &job, prepared) {
            Ok(record) => {
                ctx.progress.delivered(&record);
                outcome.add(size);
            }
            Err(e) => failure = Some(e),
        }
    }
    if let Some(e) = failure {
        return Err(finish_failure(ctx, e));
    }
    write_job(ctx.home, &job, Existing::Replace)?;
    run(ctx, &kind, job, outcome)
}

/// After a refusal, nothing more of the job can go through: the batches signed but not
/// sent are recorded as refused too, their spools and the job deleted.
fn finish_failure<L: Ledger, P: Progress>(
    ctx: &Context<'_, L, P>,
    error: IssuanceError,
) -> IssuanceError {
    let refused = matches!(
        error,
        IssuanceError::NotAnchored {
            source: NodeError::Refused { .. },
            ..
        }
    );
    if !refused {
        return error;
    }
    let cleanup = || -> Result<(), IssuanceError> {
        for (root, _) in spool::list(ctx.home)? {
            if let Some(mut record) = ctx.home.batch(&root)? {
                record.state = BatchState::Refused;
                record.detail =
                    Some("not sent: an earlier batch of the same command was refused".into());
                ctx.home.write_batch(&record)?;
            }
            spool::remove(ctx.home, &root)?;
        }
        crate::home::remove_if_present(&job_path(ctx.home)?)?;
        Ok(())
    };
    match cleanup() {
        Ok(()) => error,
        Err(e) => e,
    }
}

/// Signs, spools and hands over the job's rows from `job.signed` on, batch by batch,
/// while a second thread anchors and delivers the batches handed over.
fn run<L: Ledger, P: Progress>(
    ctx: &Context<'_, L, P>,
    kind: &Kind,
    mut job: Job,
    outcome: Outcome,
) -> Result<Outcome, IssuanceError> {
    let times = Times {
        issued_at: UnixTime(job.issued_at),
        valid_from: UnixTime(job.valid_from),
        expires: UnixTime(job.expires),
    };
    let batch_size = usize::try_from(rows_per_batch(job.batch_size, job.copies))
        .map_err(|_| IssuanceError::TooMany)?;
    let mut rows = job::open_rows(&job, kind, job.signed)?;
    ctx.progress.start(job.total, job.signed);
    let delivery_job = job.clone();
    let (sender, receiver) = mpsc::sync_channel::<Prepared>(1);
    let (signing, delivering) = std::thread::scope(|s| {
        let deliverer = s.spawn(move || -> Result<Outcome, IssuanceError> {
            let mut done = Outcome::default();
            for prepared in receiver {
                let size = prepared.size();
                let record = anchor_and_deliver(ctx, &delivery_job, prepared)?;
                ctx.progress.delivered(&record);
                done.add(size);
            }
            Ok(done)
        });
        let signing = (|| -> Result<(), IssuanceError> {
            loop {
                let chunk = rows
                    .by_ref()
                    .take(batch_size)
                    .collect::<Result<Vec<_>, _>>()?;
                if chunk.is_empty() {
                    return Ok(());
                }
                let prepared = sign_batch(ctx, kind, &job, &chunk, times)?;
                job.signed += chunk.len() as u64;
                write_job(ctx.home, &job, Existing::Replace)?;
                if sender.send(prepared).is_err() {
                    // The deliverer stopped; its error is the one reported.
                    return Ok(());
                }
            }
        })();
        drop(sender);
        let delivering = deliverer.join().unwrap_or(Err(IssuanceError::WorkerFailed));
        (signing, delivering)
    });
    let delivered = match delivering {
        Ok(d) => d,
        Err(e) => return Err(finish_failure(ctx, e)),
    };
    signing?;
    let outcome = outcome.plus(delivered);
    crate::home::remove_if_present(&job_path(ctx.home)?)?;
    files::sync_dir(ctx.home.issuing_dir()?.as_path());
    Ok(outcome)
}

/// Steps 1 to 3 for one batch: indexes reserved and dealt at random, rows signed as
/// copies, copies placed at random, batch spooled and recorded.
fn sign_batch<L: Ledger, P: Progress>(
    ctx: &Context<'_, L, P>,
    kind: &Kind,
    job: &Job,
    rows: &[crate::claims_input::InputRow],
    times: Times,
) -> Result<Prepared, IssuanceError> {
    let copies = usize::from(job.copies);
    let count = rows
        .len()
        .checked_mul(copies)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(IssuanceError::TooMany)?;
    let first = ctx.home.reserve_status_indexes(count)?;
    let mut rng = sign::seeded_rng();
    let indexes = shuffled_indexes(first, count, &mut rng)?;
    let signed = |n| ctx.progress.signed(n);
    let signer = Signer {
        key: ctx.key,
        kinds: ctx.kinds,
        kind: &kind.id,
        times,
        copies,
    };
    let certificates = sign_rows(signer, rows, &indexes, ctx.threads, &signed)?;
    let holders: Vec<PublicKeyBytes> = rows.iter().map(|r| r.holder).collect();
    let order = shuffled_order(&certificates, &mut rng);
    let batch = CopyBatch::new(ctx.key, certificates, order)?;
    let offer_seed = job.offer_url.as_ref().map(|_| {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        seed
    });
    spool::write(ctx.home, &batch, &holders, job.signed, offer_seed)?;
    let batch = SignedBatch::Copies(batch);
    let tx = Transaction::AnchorBatch(batch.anchor_transaction(ctx.key, &ctx.anchor.chain_id)?);
    let mut record = batch_file(&batch, &holders, ctx.key, UnixTime(job.issued_at))?;
    record.tx_hash = Some(transaction_hash(&tx.to_bytes()?));
    ctx.home.write_batch(&record)?;
    Ok(Prepared {
        batch,
        record,
        first_row: job.signed,
        offer_seed,
        resumed: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_at_most_four_million_copies() {
        assert_eq!(rows_per_batch(DEFAULT_BATCH_SIZE, 30), 50_000);
        assert_eq!(rows_per_batch(DEFAULT_BATCH_SIZE, 1_000), 4_000);
        assert_eq!(rows_per_batch(MAX_BATCH_SIZE, 1), MAX_BATCH_SIZE);
        assert_eq!(rows_per_batch(MAX_BATCH_SIZE, 30), 133_333);
        assert_eq!(rows_per_batch(0, 30), 1);
        assert_eq!(rows_per_batch(10, 0), 10);
    }
}
