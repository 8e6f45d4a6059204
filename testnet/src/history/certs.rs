//! The certificates the counters check: real certificates issued to one wallet key as
//! one-time copies (format 2) and anchored before the run, some of them revoked during it
//! (every copy's status index in one transaction).

use std::time::{Duration, Instant};

use ecert_issuer::{shuffled_order, CopyBatch};
use ecert_schemas::copy::CopyPackage;
use ecert_schemas::ledger::Transaction;
use ecert_schemas::{IssuerId, StatusIndex, UnixTime};
use ecert_wallet::{CopySelection, HolderKey};
use rand_core::OsRng;

use super::record::OpOutcome;
use super::workload::{submit, Clients};
use crate::province::{Order, Province};
use crate::{sample, TestnetError};

/// A certificate a wallet can show at the counters.
#[derive(Clone, Debug)]
pub struct Presentable {
    /// Its issuer.
    pub issuer: IssuerId,
    /// Its copies' status indexes.
    pub indexes: Vec<StatusIndex>,
    /// Its package, as the wallet holds it.
    pub package: CopyPackage,
    /// The block that anchored it.
    pub height: u64,
}

/// Issues `per_department` certificates of `copies` one-time copies each from each of
/// the public security bureau (ID cards) and the court (no-criminal-record) to `holder`,
/// each department's as one batch, and anchors them through the nodes in turn (retrying
/// for up to `patience`).
pub fn issue_presentable(
    province: &mut Province,
    holder: &HolderKey,
    clients: &Clients<'_>,
    per_department: usize,
    copies: u16,
    patience: Duration,
) -> Result<Vec<Presentable>, TestnetError> {
    let now = ecert_shell::clock::now().map_err(|e| TestnetError::local("read the clock", e))?;
    let mut all = Vec::new();
    for (dept, order) in [
        ("public-security", sample::id_card(now)),
        ("justice", sample::no_criminal_record(now)),
    ] {
        let orders: Vec<Order> = vec![order; per_department];
        let issued =
            province.issue_copies(dept, holder.public_key(), &orders, copies, now, &mut OsRng)?;
        let department = province.department(dept)?;
        let order = shuffled_order(&issued, &mut OsRng);
        let batch = CopyBatch::new(&department.issuer_key, issued, order)?;
        let tx = Transaction::AnchorBatch(
            batch.anchor_transaction(&department.issuer_key, province.ledger().chain_id())?,
        )
        .to_bytes()?;
        let (height, batch_seq) = anchor_patiently(clients, &tx, patience)?;
        for n in 0..batch.len() {
            let package = batch
                .package(n, batch_seq)
                .ok_or_else(|| TestnetError::local("a batch of copies", "no package"))?;
            all.push(Presentable {
                issuer: department.id.clone(),
                indexes: package.copies.iter().map(|c| c.status_index).collect(),
                package,
                height,
            });
        }
    }
    Ok(all)
}

/// Submits `tx` through the nodes in turn until it is certified: its height and place in
/// the anchor log. A repeat of an anchored batch is refused as a replay, so that answer
/// means an earlier attempt went through: then the batch is looked up.
fn anchor_patiently(
    clients: &Clients<'_>,
    tx: &[u8],
    patience: Duration,
) -> Result<(u64, u64), TestnetError> {
    let started = Instant::now();
    let mut last = String::new();
    for attempt in 0.. {
        if started.elapsed() > patience {
            break;
        }
        let node = attempt % clients.urls.len().max(1);
        match submit(clients, node, tx) {
            OpOutcome::Certified {
                height,
                batch_seq: Some(seq),
            } => return Ok((height, seq)),
            other => last = format!("{other:?}"),
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    Err(TestnetError::Timeout(format!(
        "the presentable certificates were not anchored within {} s (last answer: {last})",
        patience.as_secs()
    )))
}

/// A presentation of the name from copy `copy` (modulo the copies there are) of `cert`
/// at `time`, as a QR string.
pub fn present(
    holder: &HolderKey,
    province: &Province,
    cert: &Presentable,
    copy: usize,
    time: UnixTime,
) -> Result<String, TestnetError> {
    let selection = CopySelection {
        package: &cert.package,
        copy: copy % cert.package.copies.len().max(1),
        fields: vec!["name".to_owned()],
    };
    let presentation =
        ecert_wallet::present_copies(holder, &province.kinds, &[selection], time, None)?;
    Ok(presentation.to_qr_string()?)
}
