//! The department's audit: the batches the ledger anchored under its name, compared with
//! the batches it recorded itself. A batch on the ledger that the department did not
//! record means its key was used by someone else (or from another, unknown copy of the
//! home); a batch it recorded as anchored that the ledger does not show is missing.
//! Pure: both lists in, findings out. The ledger's list comes from a certified export
//! ([`ledger_batches`]), so a node cannot hide a batch from the audit.

use ecert_schemas::ledger::BatchRecord;
use ecert_schemas::{Hash32, IssuerId};
use ecert_verifier::TrustStore;

use crate::register::{BatchFile, BatchState};

/// What the audit found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditReport {
    /// Batches on the ledger under this department that it did not record, with their
    /// place in the anchor log.
    pub foreign: Vec<(u64, BatchRecord)>,
    /// Batches on the ledger that the department recorded, but whose key, count or kinds
    /// differ from its record.
    pub altered: Vec<(u64, BatchRecord)>,
    /// The department's own batches recorded as anchored (or possibly anchored) that the
    /// ledger does not list.
    pub missing: Vec<Hash32>,
    /// How many ledger batches matched the department's records.
    pub matched: usize,
    /// Own batches recorded as submitted or undelivered that the ledger does hold.
    pub found_pending: Vec<Hash32>,
    /// Own batches recorded as anchored at a height above the certified data audited:
    /// not checked (the node's data is older than this department's records).
    pub beyond: Vec<Hash32>,
}

impl AuditReport {
    /// Whether anything needs the operator's attention.
    pub fn clean(&self) -> bool {
        self.foreign.is_empty() && self.altered.is_empty() && self.missing.is_empty()
    }
}

/// Every batch the certified `store` holds under `issuer`, with its place in the anchor
/// log.
pub fn ledger_batches(store: &TrustStore, issuer: &IssuerId) -> Vec<(u64, BatchRecord)> {
    (0..store.anchor_count())
        .filter_map(|seq| store.batch(seq).map(|record| (seq, record)))
        .filter(|(_, record)| &record.issuer == issuer)
        .map(|(seq, record)| (seq, record.clone()))
        .collect()
}

/// Compares the ledger's batches for this department, as certified at `certified_height`,
/// with its own records.
pub fn compare(
    ledger: &[(u64, BatchRecord)],
    own: &[BatchFile],
    certified_height: u64,
) -> AuditReport {
    let mut report = AuditReport::default();
    for (seq, record) in ledger {
        match own.iter().find(|b| b.root == record.batch_root) {
            None => report.foreign.push((*seq, record.clone())),
            Some(b) => {
                if b.key_id != record.key_id || b.count != record.count || b.kinds != record.kinds {
                    report.altered.push((*seq, record.clone()));
                } else {
                    report.matched += 1;
                    if matches!(b.state, BatchState::Submitted | BatchState::Undelivered) {
                        report.found_pending.push(b.root);
                    }
                }
            }
        }
    }
    for b in own {
        let on_ledger = ledger.iter().any(|(_, r)| r.batch_root == b.root);
        if !on_ledger && b.state == BatchState::Anchored {
            if b.height.is_some_and(|h| h > certified_height) {
                report.beyond.push(b.root);
            } else {
                report.missing.push(b.root);
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register::RECORD_VERSION;
    use ecert_schemas::{IssuerId, KeyId, KindId};

    fn record(root: u8) -> BatchRecord {
        BatchRecord {
            issuer: IssuerId::new("justice").unwrap(),
            key_id: KeyId([1; 8]),
            kinds: vec![KindId::new("no-criminal-record").unwrap()],
            batch_root: Hash32([root; 32]),
            count: 2,
            height: 1,
            time_ms: 1000,
        }
    }

    fn own(root: u8, state: BatchState) -> BatchFile {
        BatchFile {
            version: RECORD_VERSION,
            root: Hash32([root; 32]),
            key_id: KeyId([1; 8]),
            kinds: vec![KindId::new("no-criminal-record").unwrap()],
            count: 2,
            state,
            created_at: 1,
            tx_hash: None,
            batch_seq: None,
            height: None,
            anchored_at_ms: None,
            detail: None,
            certificates: vec![],
        }
    }

    #[test]
    fn finds_foreign_altered_and_missing_batches() {
        let mut changed = record(3);
        changed.count = 5;
        let ledger = vec![(0, record(1)), (1, record(2)), (2, changed), (3, record(6))];
        let mine = vec![
            own(1, BatchState::Anchored),
            own(3, BatchState::Anchored),
            own(4, BatchState::Anchored),
            own(5, BatchState::Refused),
            own(6, BatchState::Undelivered),
        ];
        let report = compare(&ledger, &mine, 10);
        assert_eq!(report.foreign, vec![(1, record(2))]);
        assert_eq!(report.altered.len(), 1);
        assert_eq!(report.missing, vec![Hash32([4; 32])]);
        assert_eq!(report.matched, 2);
        assert_eq!(report.found_pending, vec![Hash32([6; 32])]);
        assert!(report.beyond.is_empty());
        assert!(!report.clean());
        assert!(compare(&[(0, record(1))], &[own(1, BatchState::Anchored)], 10).clean());
    }

    #[test]
    fn an_own_batch_newer_than_the_audited_data_is_not_missing() {
        let mut newer = own(7, BatchState::Anchored);
        newer.height = Some(12);
        let mut older = own(8, BatchState::Anchored);
        older.height = Some(9);
        let report = compare(&[], &[newer, older], 10);
        assert_eq!(report.beyond, vec![Hash32([7; 32])]);
        assert_eq!(report.missing, vec![Hash32([8; 32])]);
        assert!(!report.clean());
    }
}
