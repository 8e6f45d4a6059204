//! `list`, `show`, `revoke` and `audit`: the department's register, and the ledger compared
//! with it.

use anyhow::Result;
use ecert_issuer::audit::{compare, ledger_batches};
use ecert_issuer::home::Home;
use ecert_issuer::node::Wait;
use ecert_issuer::register::{
    find, find_by_status_index, reason_by_name, rows, short_id, BatchState, CertificateStatus,
    Issued, RegisterRow, RevocationFile, RevokedEntry, RECORD_VERSION,
};
use ecert_issuer::revocation_transaction;
use ecert_schemas::ledger::{
    RevocationEntry, RevocationReason, Transaction, MAX_REVOCATIONS_PER_TX,
};
use ecert_schemas::{KindId, KindRegistry, StatusIndex};
use ecert_verifier::commit::transaction_hash;

use super::{copies_cell, date, node_client, now, print, SUBMIT_WAIT_MS};
use crate::cli::{ListArgs, RevokeArgs, ShowArgs};
use crate::exit;
use crate::secrets;

fn reasons() -> String {
    RevocationReason::ALL
        .iter()
        .map(|r| r.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `list`.
pub fn list(home: &Home, args: &ListArgs) -> Result<()> {
    let batches = home.batches()?;
    let revocations = home.revocations()?;
    let all = rows(&batches, &revocations, now()?);
    let shown: Vec<&RegisterRow> = all
        .iter()
        .filter(|r| {
            args.kind
                .as_deref()
                .is_none_or(|k| r.certificate.kind.as_str() == k)
        })
        .filter(|r| !args.revoked || matches!(r.status, CertificateStatus::Revoked(_)))
        .collect();
    if shown.is_empty() {
        print(if all.is_empty() {
            "No certificates issued yet.\n"
        } else {
            "No certificates match.\n"
        })?;
        return Ok(());
    }
    let mut text = format!(
        "{:<8}  {:<20}  {:<8}  {:<10}  {:<10}  {:>6}  {:>6}  STATUS\n",
        "ID", "KIND", "HOLDER", "ISSUED", "EXPIRES", "COPIES", "BATCH"
    );
    for r in &shown {
        let c = &r.certificate;
        text.push_str(&format!(
            "{:<8}  {:<20}  {:<8}  {:<10}  {:<10}  {:>6}  {:>6}  {}\n",
            short_id(&c.id),
            c.kind.as_str(),
            c.holder.to_hex().chars().take(8).collect::<String>(),
            date(c.issued_at),
            date(c.expires),
            copies_cell(c),
            r.batch_seq
                .map_or_else(|| "-".to_owned(), |s| s.to_string()),
            r.status.label()
        ));
    }
    text.push_str(&format!("{} certificate(s).\n", shown.len()));
    print(&text)?;
    Ok(())
}

/// `show`.
pub fn show(home: &Home, args: &ShowArgs) -> Result<()> {
    let batches = home.batches()?;
    let all = rows(&batches, &home.revocations()?, now()?);
    let row = match (&args.cert, args.status_index) {
        (Some(id), _) => find(&all, id)?,
        (None, Some(index)) => find_by_status_index(&all, index).ok_or_else(|| {
            exit::input(format!(
                "no certificate issued by this department has status index {index}"
            ))
        })?,
        (None, None) => return Err(exit::input("give --cert ID or --status-index N").into()),
    };
    let c = &row.certificate;
    let batch = batches.iter().find(|b| b.root == row.batch_root);
    let mut text = format!(
        "Certificate {}\n\
         Kind:          {}\n\
         Holder:        {} (wallet ID)\n\
         Issued:        {}\n\
         Valid:         {} to {}\n\
         Status:        {}\n\
         Batch:         {}{}\n",
        c.id.to_hex(),
        c.kind,
        c.holder.to_hex(),
        date(c.issued_at),
        date(c.valid_from),
        date(c.expires),
        row.status.label(),
        row.batch_root.to_hex(),
        match (row.batch_seq, batch.and_then(|b| b.height)) {
            (Some(seq), Some(height)) => {
                format!(", position {seq} of the ledger's anchor log (block {height})")
            }
            (Some(seq), None) => format!(", position {seq} of the ledger's anchor log"),
            _ => String::new(),
        },
    );
    if let Some(file) = &c.package_file {
        text.push_str(&format!("Package file:  {file}\n"));
    }
    if let Some(code) = &c.offer {
        text.push_str(&format!("Offer code:    {code}\n"));
    }
    match &c.issued {
        Issued::Copies { status_indexes } => {
            text.push_str(&format!(
                "Copies:        {}, each shown once; their status indexes, in the order of \
                 the package:\n",
                status_indexes.len()
            ));
            for line in status_indexes.chunks(10) {
                let line: Vec<String> = line.iter().map(|i| format!("{i:>9}")).collect();
                text.push_str(&format!("  {}\n", line.join(" ")));
            }
        }
        Issued::Whole {
            status_index,
            leaf_index,
            hash,
        } => {
            text.push_str(&format!(
                "Issued whole (one certificate, before one-time copies): status index \
                 {status_index}, leaf {leaf_index} of its batch, SHA-256 {}\n",
                hash.to_hex()
            ));
        }
    }
    print(&text)?;
    Ok(())
}

/// `revoke`.
pub fn revoke(home: &Home, args: &RevokeArgs, net: &ecert_client::Transport) -> Result<()> {
    let config = home.config()?;
    let issuer = config.issuer_id()?;
    let node_url = config.node_url()?.to_owned();
    let anchor = home.require_anchor()?;
    let reason = reason_by_name(&args.reason).ok_or_else(|| {
        exit::input(format!(
            "unknown reason {:?} (reasons: {})",
            args.reason,
            reasons()
        ))
    })?;
    let _lock = home.lock()?;
    let all = rows(&home.batches()?, &home.revocations()?, now()?);
    let mut chosen: Vec<&RegisterRow> = Vec::new();
    for id in &args.certs {
        let row = find(&all, id)?;
        match row.status {
            CertificateStatus::Revoked(r) => {
                return Err(exit::input(format!(
                    "certificate {} is already revoked ({}); nothing was changed",
                    short_id(&row.certificate.id),
                    r.name()
                ))
                .into())
            }
            CertificateStatus::NotDelivered(BatchState::Refused) => {
                return Err(exit::input(format!(
                    "certificate {} was never valid (the ledger refused its batch); there is \
                     nothing to revoke",
                    short_id(&row.certificate.id)
                ))
                .into())
            }
            _ => {}
        }
        if !chosen
            .iter()
            .any(|c| c.certificate.id == row.certificate.id)
        {
            chosen.push(row);
        }
    }

    let entries: Vec<RevocationEntry> = chosen
        .iter()
        .flat_map(|r| &r.status_indexes)
        .map(|index| RevocationEntry {
            index: StatusIndex(*index),
            reason,
        })
        .collect();
    if entries.len() > MAX_REVOCATIONS_PER_TX {
        return Err(exit::input(format!(
            "these certificates have {} status indexes in all (one per copy), more than the \
             {MAX_REVOCATIONS_PER_TX} one revocation may hold; nothing was changed: revoke \
             fewer certificates at once",
            entries.len()
        ))
        .into());
    }

    let key = secrets::unlock(home, issuer.clone())?;
    let time = now()?;
    let tx = Transaction::Revocation(revocation_transaction(
        &key,
        &anchor.chain_id,
        entries,
        time,
    )?);
    let tx_hash = transaction_hash(&tx.to_bytes()?);
    eprintln!(
        "Sending the revocation to the ledger ({node_url}); waiting until it is certified..."
    );
    let client = node_client(&node_url, net)?;
    let receipt = client
        .submit(&tx, Wait::Certified, SUBMIT_WAIT_MS)
        .map_err(|e| anyhow::Error::new(e).context("the revocation was not recorded; try again"))?;
    // The node's word is not enough: the revocation must show in data the validators
    // certified. Only then is it recorded here; until then running the command again is
    // safe (revoking a revoked certificate changes nothing on the ledger).
    let certified = client.certified_revocations(&anchor).map_err(|e| {
        anyhow::Error::new(e).context(
            "the revocation was sent, but could not be confirmed from the certified ledger; \
             nothing was recorded here: run the command again, against another node if this \
             persists",
        )
    })?;
    let (header, state) = (certified.header, certified.snapshot);
    let unconfirmed: Vec<String> = chosen
        .iter()
        .filter(|r| {
            r.status_indexes
                .iter()
                .any(|i| !state.is_revoked(&issuer, StatusIndex(*i)))
        })
        .map(|r| short_id(&r.certificate.id))
        .collect();
    if !unconfirmed.is_empty() {
        return Err(exit::Failure::new(
            exit::PROOF,
            format!(
                "the node {node_url} answered that the revocation was certified, but the \
                 ledger as certified at block #{} does not show {} as revoked: do not trust \
                 that node. Nothing was recorded here; run the command again against another \
                 node ('ecert-issuer config --node URL').",
                header.height,
                unconfirmed.join(", ")
            ),
        )
        .into());
    }
    home.write_revocation(&RevocationFile {
        version: RECORD_VERSION,
        time: time.secs(),
        tx_hash,
        height: receipt.height,
        entries: chosen
            .iter()
            .map(|r| RevokedEntry {
                id: r.certificate.id,
                status_indexes: r.status_indexes.clone(),
                reason,
            })
            .collect(),
    })?;
    let mut text = format!(
        "Revoked {} certificate(s) ({}), certified by the ledger{} and checked against the \
         trust anchor.\n",
        chosen.len(),
        reason.name(),
        receipt
            .height
            .map(|h| format!(" in block {h}"))
            .unwrap_or_default()
    );
    for r in &chosen {
        let copies = match r.certificate.issued.copies() {
            Some(_) if r.issues > 1 => format!(
                "  all {} copies of its {} issues",
                r.status_indexes.len(),
                r.issues
            ),
            Some(n) => format!("  all {n} copies"),
            None => String::new(),
        };
        text.push_str(&format!(
            "  {}  {}  holder {}{copies}\n",
            short_id(&r.certificate.id),
            r.certificate.kind.as_str(),
            r.certificate
                .holder
                .to_hex()
                .chars()
                .take(8)
                .collect::<String>()
        ));
    }
    text.push_str("Counters refuse these certificates once they have synced.\n");
    print(&text)?;
    Ok(())
}

/// Kinds as people read them: `id-card, driver-licence`.
fn kind_names(kinds: &[KindId]) -> String {
    kinds
        .iter()
        .map(KindId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `audit`.
pub fn audit(home: &Home, net: &ecert_client::Transport) -> Result<()> {
    let config = home.config()?;
    let issuer = config.issuer_id()?;
    let node_url = config.node_url()?.to_owned();
    let anchor = home.require_anchor()?;
    let own = home.batches()?;
    let store = node_client(&node_url, net)?.certified_export(&anchor, KindRegistry::builtin()?)?;
    let ledger = ledger_batches(&store, &issuer);
    let certified_height = store.header().height;
    let report = compare(&ledger, &own, certified_height);
    let mut text = format!(
        "Audit of {issuer} against the ledger as certified at block #{certified_height} ({}, \
         {} validator signatures, fetched from {node_url}): {} batch(es) on the ledger, {} in \
         this home's records.\n",
        date(store.as_of().secs()),
        store.vote_count(),
        ledger.len(),
        own.len()
    );
    for (seq, r) in &report.foreign {
        text.push_str(&format!(
            "NOT ISSUED BY THIS DEPARTMENT: batch at position {seq} (block {}, {}), root {}, key \
             {}, {} certificate(s) or one-time copies of {}\n",
            r.height,
            date(r.time_ms / 1000),
            r.batch_root.to_hex(),
            r.key_id.to_hex(),
            r.count,
            kind_names(&r.kinds)
        ));
    }
    for (seq, r) in &report.altered {
        text.push_str(&format!(
            "DIFFERS FROM THE RECORDS: batch at position {seq}, root {}: the ledger says key {}, \
             {} certificate(s) or one-time copies of {}\n",
            r.batch_root.to_hex(),
            r.key_id.to_hex(),
            r.count,
            kind_names(&r.kinds)
        ));
    }
    for root in &report.missing {
        text.push_str(&format!(
            "MISSING FROM THE LEDGER: this department's batch {} is recorded as anchored, but \
             the certified ledger does not hold it\n",
            root.to_hex()
        ));
    }
    for root in &report.beyond {
        text.push_str(&format!(
            "not checked: batch {} is recorded at a block after #{certified_height}; the \
             node's certified data is older than this home's records: audit again, or ask \
             another node\n",
            root.to_hex()
        ));
    }
    for root in &report.found_pending {
        text.push_str(&format!(
            "note: batch {} was anchored after all, but its certificates were not delivered; \
             issue them again if needed and revoke the undelivered ones\n",
            root.to_hex()
        ));
    }
    if report.clean() {
        let certificates: usize = own.iter().map(|b| b.certificates.len()).sum();
        let copies: u64 = own.iter().map(|b| b.copies()).sum();
        text.push_str(&format!(
            "All in order: every batch on the ledger under {issuer} is one of this department's \
             ({} matched; this home's records hold {certificates} certificate(s), {copies} \
             one-time copies).\n",
            report.matched
        ));
        print(&text)?;
        Ok(())
    } else {
        if !report.foreign.is_empty() || !report.altered.is_empty() {
            text.push_str(
                "Batches this department did not issue were anchored with its name: its \
                 signing key may be in someone else's hands. Tell the ledger's operators, \
                 replace the key, and revoke what you did not issue.\n",
            );
        }
        print(&text)?;
        Err(exit::Failure::new(
            exit::AUDIT,
            "the audit found batches this department did not issue, or its own batches \
             missing (see above)",
        )
        .into())
    }
}
