//! One spooled batch from the ledger to the citizens: anchored (or found anchored), its
//! receipt proven against the trust anchor, its packages (a `CopyPackage` per
//! certificate, or a `CertificatePackage` for a batch of format 1) written as files and
//! offers on every core without a flush each, the file systems flushed once, and only
//! then the register's record marked anchored and the spool deleted. Interrupted
//! anywhere, it is simply done again: the same files with the same bytes, the same offer
//! codes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ecert_schemas::ledger::{AnchorReceipt, Transaction};
use ecert_schemas::{Hash32, UnixTime};
use ecert_shell::bulk::{sync_file_system, write_unsynced, IfExists};
use ecert_verifier::VerifiedAnchor;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::job::Job;
use super::{spool, Context, IssuanceError, Ledger, Progress};
use crate::anchoring::{check_receipt, SignedBatch};
use crate::home::HomeError;
use crate::node::NodeError;
use crate::offer::{self, Offer, OfferStore};
use crate::register::{BatchFile, BatchState};

/// How many times, and how far apart, the anchor receipt is asked for after a certified
/// submission (a node may not show it for a moment).
const RECEIPT_ATTEMPTS: u32 = 30;
const RECEIPT_PAUSE: Duration = Duration::from_secs(1);

/// A batch signed and spooled, ready to be anchored and delivered.
pub(crate) struct Prepared {
    pub batch: SignedBatch,
    pub record: BatchFile,
    pub first_row: u64,
    pub offer_seed: Option<[u8; 32]>,
    /// Read back from the spool after an interruption: it may have been sent, and some
    /// of its files written, already.
    pub resumed: bool,
}

impl Prepared {
    /// Its certificates and the leaves of its tree.
    pub fn size(&self) -> (u64, u64) {
        (self.batch.len() as u64, self.batch.leaf_count())
    }
}

fn receipt_retrying<L: Ledger>(ledger: &L, root: &Hash32) -> Result<AnchorReceipt, NodeError> {
    ecert_client::node::retry_while_pending(RECEIPT_ATTEMPTS, RECEIPT_PAUSE, || {
        ledger.receipt(root)
    })
}

/// The batch's receipt: sent first if new; if resumed, asked for first and sent only if
/// the ledger does not have it (a refusal then is checked against the receipt again: the
/// first sending may have gone through).
fn anchored<L: Ledger, P: Progress>(
    ctx: &Context<'_, L, P>,
    p: &Prepared,
    tx: &Transaction,
) -> Result<AnchorReceipt, NodeError> {
    let root = p.batch.root();
    if p.resumed {
        match ctx.ledger.receipt(&root) {
            Ok(receipt) => return Ok(receipt),
            Err(NodeError::NotAnchored) => {}
            Err(NodeError::NotCertifiedYet) => return receipt_retrying(ctx.ledger, &root),
            Err(e) => return Err(e),
        }
    }
    ctx.progress.anchoring(p.batch.len(), p.batch.leaf_count());
    match ctx.ledger.submit(tx) {
        Ok(()) => receipt_retrying(ctx.ledger, &root),
        Err(refused @ NodeError::Refused { .. }) if p.resumed => {
            ctx.ledger.receipt(&root).map_err(|_| refused)
        }
        Err(e) => Err(e),
    }
}

fn mark(ctx_home: &crate::home::Home, record: &mut BatchFile, state: BatchState, detail: String) {
    record.state = state;
    record.detail = Some(detail);
    // The first error is the one reported; a record that cannot be updated stays
    // `submitted`, which `issue --resume` handles the same way.
    let _ = ctx_home.write_batch(record);
}

/// Anchors and delivers one batch; its record, anchored, once done.
pub(crate) fn anchor_and_deliver<L: Ledger, P: Progress>(
    ctx: &Context<'_, L, P>,
    job: &Job,
    mut p: Prepared,
) -> Result<BatchFile, IssuanceError> {
    let root = p.batch.root();
    let tx = Transaction::AnchorBatch(p.batch.anchor_transaction(ctx.key, &ctx.anchor.chain_id)?);
    let receipt = match anchored(ctx, &p, &tx) {
        Ok(receipt) => receipt,
        Err(e) => {
            let refused = matches!(e, NodeError::Refused { .. });
            let state = if refused {
                BatchState::Refused
            } else {
                BatchState::Undelivered
            };
            mark(ctx.home, &mut p.record, state, e.to_string());
            if refused {
                spool::remove(ctx.home, &root)?;
            }
            return Err(IssuanceError::NotAnchored { root, source: e });
        }
    };
    let verified = match check_receipt(&receipt, ctx.anchor, &p.batch, ctx.key) {
        Ok(v) => v,
        Err(e) => {
            mark(
                ctx.home,
                &mut p.record,
                BatchState::Undelivered,
                e.to_string(),
            );
            return Err(IssuanceError::NotProven { root, source: e });
        }
    };
    write_packages(ctx, job, &mut p, &verified)?;
    p.record.batch_seq = Some(verified.batch_seq);
    p.record.height = Some(verified.record.height);
    p.record.anchored_at_ms = Some(verified.record.time_ms);
    p.record.state = BatchState::Anchored;
    p.record.detail = None;
    ctx.home.write_batch(&p.record)?;
    spool::remove(ctx.home, &root)?;
    Ok(p.record)
}

/// One certificate's delivery: its package file (as given, and resolved) and offer code.
struct Target {
    shown: Option<PathBuf>,
    file: Option<PathBuf>,
    offer: Option<String>,
}

fn targets(job: &Job, p: &Prepared) -> Vec<Target> {
    let mut codes = p.offer_seed.map(ChaCha20Rng::from_seed);
    p.record
        .certificates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let shown = match job.input {
                super::job::Input::Csv { .. } => {
                    job.package_path(Some(p.first_row + i as u64 + 2), &c.holder)
                }
                super::job::Input::Claims { .. } => job.package_path(None, &c.holder),
                // New copies wait for their wallet under the certificate's id.
                super::job::Input::Refills { .. } => job
                    .out_dir
                    .as_ref()
                    .map(|dir| dir.join(crate::refill::ready_name(&c.id))),
            };
            let file = shown.as_deref().map(|s| job.resolve(s));
            Target {
                shown,
                file,
                offer: codes.as_mut().map(offer::new_code),
            }
        })
        .collect()
}

fn write_packages<L: Ledger, P: Progress>(
    ctx: &Context<'_, L, P>,
    job: &Job,
    p: &mut Prepared,
    verified: &VerifiedAnchor,
) -> Result<(), IssuanceError> {
    let targets = targets(job, p);
    let offers = OfferStore::new(ctx.home.offers_dir());
    if job.offer_url.is_some() {
        offers.create_dirs()?;
    }
    // New copies replace the ones a wallet has not collected yet.
    let refills = matches!(job.input, super::job::Input::Refills { .. });
    let existing = if p.resumed || refills {
        IfExists::Overwrite
    } else {
        IfExists::Refuse
    };
    let created_at = UnixTime(job.issued_at).secs();
    let per = targets.len().div_ceil(ctx.threads.max(1)).max(1);
    let batch = &p.batch;
    let record = &p.record;
    let seq = verified.batch_seq;
    let results: Vec<Result<(), IssuanceError>> = std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .chunks(per)
            .enumerate()
            .map(|(n, part)| {
                let offers = &offers;
                s.spawn(move || {
                    for (j, target) in part.iter().enumerate() {
                        let i = n * per + j;
                        let bytes = batch
                            .package_bytes(i, seq)
                            .ok_or(IssuanceError::WorkerFailed)??;
                        if let Some(file) = &target.file {
                            write_unsynced(file, &bytes, existing).map_err(HomeError::from)?;
                        }
                        if let (Some(code), Some(entry)) =
                            (&target.offer, record.certificates.get(i))
                        {
                            offers.create_unsynced(&Offer {
                                code: code.clone(),
                                certificate: entry.id,
                                holder: entry.holder,
                                created_at,
                                package: bytes,
                            })?;
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(IssuanceError::WorkerFailed)))
            .collect()
    });
    for r in results {
        r?;
    }
    // Durable before recorded: one flush per file system written to.
    let mut dirs: Vec<PathBuf> = Vec::new();
    if job.offer_url.is_some() {
        dirs.push(offers.open_folder());
    }
    for target in &targets {
        if let Some(dir) = target.file.as_deref().and_then(Path::parent) {
            if !dirs.iter().any(|d| d == dir) {
                dirs.push(dir.to_owned());
            }
        }
    }
    let files: Vec<PathBuf> = targets.iter().filter_map(|t| t.file.clone()).collect();
    for dir in &dirs {
        sync_file_system(dir, &files).map_err(HomeError::from)?;
    }
    for (entry, target) in p.record.certificates.iter_mut().zip(targets) {
        entry.package_file = target.shown.map(|s| s.display().to_string());
        entry.offer = target.offer;
    }
    Ok(())
}
