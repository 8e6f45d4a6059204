//! The checker: what the clients were told and what the counters said, against what every
//! node holds certified after the run. Pure: it reads the history and the nodes' views.
//!
//! - every anchor acknowledged as certified is in every node's certified anchor log, at
//!   the place (`batch_seq`) and height it was acknowledged with, and no batch root is
//!   there twice; no refused anchor is there;
//! - every certified height has one header across all nodes, and every checkpoint a node
//!   serves verifies;
//! - all nodes agree: the same newest certified header, and the same header at the
//!   newest height they all hold;
//! - every revocation acknowledged as certified is revoked in every node's certified
//!   state, the nodes agree on the height that revoked each certificate, and a
//!   certificate's one-time copies are revoked together (every copy's status index, at one
//!   height);
//! - no counter said VALID for a certificate whose revocation was certified at or before
//!   its data: by height (its data's height includes the revoking block) or by time (its
//!   data's "as of" time is not before the moment the revocation was known to be
//!   certified: the client's acknowledgement, or a counter's sync of that height); no
//!   counter said REVOKED for a certificate its data does not revoke, or refused a
//!   certificate its data includes for any other reason;
//! - no counter was served data it had to refuse.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use ecert_schemas::{Hash32, IssuerId, StatusIndex};

use super::observe::NodeView;
use super::record::{History, OpKind, OpOutcome, Verdict};

/// A certificate the counters checked, as the checker needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// Its issuer.
    pub issuer: IssuerId,
    /// Its status indexes: one per one-time copy (one for a certificate of format 1).
    pub indexes: Vec<StatusIndex>,
    /// The block that anchored it.
    pub height: u64,
}

impl CertInfo {
    /// How the findings name it: its issuer and first status index.
    fn name(&self) -> String {
        match self.indexes.as_slice() {
            [one] => format!("{} #{}", self.issuer, one.0),
            [first, rest @ ..] => {
                format!("{} #{} (and {} copies)", self.issuer, first.0, rest.len())
            }
            [] => format!("{} (no status index)", self.issuer),
        }
    }
}

/// Something that breaks a promise of the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    /// Which check found it.
    pub check: &'static str,
    /// What exactly.
    pub detail: String,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.check, self.detail)
    }
}

/// What the checker found.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    /// Broken promises (target: none).
    pub anomalies: Vec<Anomaly>,
    /// The newest certified height all nodes hold.
    pub common_height: u64,
    /// Batches in the anchor log (of the first node read).
    pub anchored: usize,
    /// Anchors whose outcome the client did not learn, and how many of them are in the
    /// log.
    pub unknown_anchors: (usize, usize),
    /// Certified headers compared across the nodes.
    pub headers_compared: usize,
    /// Heights up to the newest common one that no node holds a checkpoint of: blocks
    /// never certified on their own, covered by a later certified header (which commits
    /// to them through `prev_hash` and the anchor log).
    pub uncertified_heights: u64,
    /// Counter checks that said VALID, REVOKED, or refused for another reason because
    /// their data predated the certificate.
    pub verdicts: (usize, usize, usize),
}

/// A node's anchor log by batch root: each place (`batch_seq`, height) it holds it at.
type AnchorLog = BTreeMap<Hash32, Vec<(u64, u64)>>;

struct Checker<'a> {
    history: &'a History,
    views: &'a [NodeView],
    findings: Findings,
}

impl Checker<'_> {
    fn anomaly(&mut self, check: &'static str, detail: String) {
        self.findings.anomalies.push(Anomaly { check, detail });
    }

    fn readable(&mut self) {
        for view in self.views {
            for error in &view.errors {
                self.anomaly("read", format!("node {}: {error}", view.node));
            }
            for (height, why) in &view.bad_checkpoints {
                self.anomaly(
                    "checkpoint",
                    format!("node {} serves a checkpoint at height {height} that does not verify: {why}", view.node),
                );
            }
        }
    }

    fn one_header_per_height(&mut self) {
        let mut seen: BTreeMap<u64, (usize, &Vec<u8>)> = BTreeMap::new();
        let mut clashes = Vec::new();
        for view in self.views {
            let exported = view.export.as_ref().map(|e| (e.height, &e.header));
            for (height, header) in view
                .checkpoints
                .iter()
                .map(|(h, b)| (*h, b))
                .chain(exported)
            {
                match seen.get(&height) {
                    Some((other, first)) if *first != header => {
                        clashes.push(format!(
                            "nodes {other} and {} hold different certified headers at height {height}",
                            view.node
                        ));
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(height, (view.node, header));
                    }
                }
            }
        }
        self.findings.headers_compared = seen.len();
        let newest = seen.keys().next_back().copied().unwrap_or(0);
        self.findings.uncertified_heights = newest.saturating_sub(seen.len() as u64);
        for clash in clashes {
            self.anomaly("one-header-per-height", clash);
        }
    }

    fn agreement(&mut self) {
        let exports: Vec<(usize, u64, &Vec<u8>)> = self
            .views
            .iter()
            .filter_map(|v| v.export.as_ref().map(|e| (v.node, e.height, &e.header)))
            .collect();
        if let Some((first, height, header)) = exports.first().copied() {
            for (node, h, bytes) in exports.iter().skip(1) {
                if *h != height || *bytes != header {
                    self.anomaly(
                        "agreement",
                        format!(
                            "node {node}'s newest certified header (height {h}) differs from node \
                             {first}'s (height {height})"
                        ),
                    );
                }
            }
        }
        let common = self
            .views
            .iter()
            .map(|v| v.checkpoints.keys().next_back().copied().unwrap_or(0))
            .min()
            .unwrap_or(0);
        self.findings.common_height = common;
        let at_common: BTreeSet<Option<&Vec<u8>>> = self
            .views
            .iter()
            .map(|v| v.checkpoints.get(&common))
            .collect();
        if common > 0 && (at_common.len() != 1 || at_common.contains(&None)) {
            self.anomaly(
                "agreement",
                format!(
                    "the nodes do not all hold one header at their newest common height {common}"
                ),
            );
        }
    }

    fn anchors(&mut self) {
        let mut problems = Vec::new();
        let mut unknown = (0, 0);
        let logs: Vec<(usize, AnchorLog)> = self
            .views
            .iter()
            .filter_map(|v| {
                let e = v.export.as_ref()?;
                let mut log = AnchorLog::new();
                for (seq, r) in (0u64..).zip(&e.anchors) {
                    log.entry(r.batch_root).or_default().push((seq, r.height));
                }
                Some((v.node, log))
            })
            .collect();
        self.findings.anchored = self
            .views
            .iter()
            .find_map(|v| v.export.as_ref().map(|e| e.anchors.len()))
            .unwrap_or(0);
        for (node, log) in &logs {
            for (root, places) in log.iter().filter(|(_, p)| p.len() > 1) {
                problems.push(format!(
                    "node {node}: batch {root} is anchored {} times",
                    places.len()
                ));
            }
        }
        for op in &self.history.ops {
            let OpKind::Anchor { root, .. } = &op.kind else {
                continue;
            };
            match &op.outcome {
                OpOutcome::Certified { height, batch_seq } => {
                    for (node, log) in &logs {
                        let place = log.get(root).and_then(|p| p.first()).copied();
                        match (place, batch_seq) {
                            (None, _) => problems.push(format!(
                                "batch {root}, acknowledged certified at height {height}, is not in \
                                 node {node}'s certified anchor log"
                            )),
                            (Some((seq, h)), Some(acked)) if seq != *acked || h != *height => {
                                problems.push(format!(
                                    "batch {root} was acknowledged at height {height} as batch \
                                     {acked}; node {node} holds it at height {h} as batch {seq}"
                                ))
                            }
                            (Some(_), None) => problems.push(format!(
                                "batch {root} was acknowledged certified without its place in the log"
                            )),
                            _ => {}
                        }
                    }
                }
                OpOutcome::Refused { code } => {
                    for (node, log) in &logs {
                        if log.contains_key(root) {
                            problems.push(format!(
                                "batch {root} was refused ({code}) but node {node} anchored it"
                            ));
                        }
                    }
                }
                OpOutcome::Unknown { .. } => {
                    unknown.0 += 1;
                    if logs.first().is_some_and(|(_, log)| log.contains_key(root)) {
                        unknown.1 += 1;
                    }
                }
            }
        }
        self.findings.unknown_anchors = unknown;
        for p in problems {
            self.anomaly("anchors", p);
        }
    }

    fn revocations(&mut self) {
        let mut problems = Vec::new();
        for op in &self.history.ops {
            let (OpKind::Revoke { issuer, indexes }, OpOutcome::Certified { height, .. }) =
                (&op.kind, &op.outcome)
            else {
                continue;
            };
            for view in self.views {
                let Some(export) = &view.export else { continue };
                for index in indexes {
                    if !export.revocations.is_revoked(issuer, *index) {
                        problems.push(format!(
                            "{issuer} #{} was acknowledged revoked at height {height}, node {} \
                             holds it not revoked",
                            index.0, view.node
                        ));
                    }
                }
            }
        }
        for p in problems {
            self.anomaly("revocations", p);
        }
    }

    /// The height that revoked each of `certs` by the ledger (`None`: not revoked; a
    /// certificate of several copies is revoked when its first copy is), any disagreement
    /// between the nodes about it, and any node holding a certificate's copies revoked at
    /// different heights or only some of them revoked.
    fn revoked_heights(&mut self, certs: &[CertInfo]) -> Vec<Option<u64>> {
        let mut problems = Vec::new();
        let heights = certs
            .iter()
            .map(|c| {
                let mut by_node = BTreeSet::new();
                for view in self.views {
                    let Some(entries) = view.revoked_at.as_ref() else {
                        continue;
                    };
                    // The height that revoked each copy on this node.
                    let copies: Vec<Option<u64>> = c
                        .indexes
                        .iter()
                        .map(|index| {
                            entries
                                .iter()
                                .filter(|e| e.issuer == c.issuer && e.index == *index)
                                .map(|e| e.height)
                                .min()
                        })
                        .collect();
                    let distinct: BTreeSet<Option<u64>> = copies.iter().copied().collect();
                    if distinct.len() > 1 {
                        problems.push(format!(
                            "node {} holds the copies of {} revoked at different heights or \
                             not all revoked: {distinct:?}",
                            view.node,
                            c.name()
                        ));
                    }
                    by_node.insert(copies.into_iter().flatten().min());
                }
                if by_node.len() > 1 {
                    problems.push(format!(
                        "the nodes disagree on when {} was revoked: {by_node:?}",
                        c.name()
                    ));
                }
                by_node.into_iter().flatten().min()
            })
            .collect();
        for p in problems {
            self.anomaly("revocations", p);
        }
        heights
    }

    fn counters(&mut self, certs: &[CertInfo]) {
        for refusal in &self.history.refusals {
            self.anomaly(
                "counter-sync",
                format!(
                    "counter {} refused node {}'s data: {}",
                    refusal.counter, refusal.node, refusal.detail
                ),
            );
        }
        let revoked = self.revoked_heights(certs);
        // When each certificate's revocation was known to be certified, at the latest.
        let known: Vec<Option<u64>> = certs
            .iter()
            .zip(&revoked)
            .map(|(c, h)| {
                let h = (*h)?;
                let acked =
                    self.history
                        .ops
                        .iter()
                        .filter_map(|op| match (&op.kind, &op.outcome) {
                            (OpKind::Revoke { issuer, indexes }, OpOutcome::Certified { .. })
                                if *issuer == c.issuer
                                    && c.indexes.iter().any(|i| indexes.contains(i)) =>
                            {
                                Some(op.completed_ms)
                            }
                            _ => None,
                        });
                let synced = self
                    .history
                    .syncs
                    .iter()
                    .filter(|s| s.height >= h)
                    .map(|s| s.at_ms);
                acked.chain(synced).min()
            })
            .collect();
        let mut problems = Vec::new();
        let mut verdicts = (0, 0, 0);
        for check in &self.history.checks {
            let (Some(cert), Some(revoked_at)) = (certs.get(check.cert), revoked.get(check.cert))
            else {
                continue;
            };
            let known_ms = known.get(check.cert).copied().flatten();
            let name = cert.name();
            let data = format!(
                "counter {} at {} ms, data of height {} as of {} s",
                check.counter, check.at_ms, check.height, check.as_of
            );
            match &check.verdict {
                Verdict::Valid => {
                    verdicts.0 += 1;
                    if let Some(h) = revoked_at.filter(|h| check.height >= *h) {
                        problems.push(format!("{data}: VALID for {name}, revoked at height {h}"));
                    } else if let Some(t) =
                        known_ms.filter(|t| check.as_of.saturating_mul(1000) >= *t)
                    {
                        problems.push(format!(
                            "{data}: VALID for {name}, whose revocation was certified by {t} ms"
                        ));
                    }
                }
                Verdict::Revoked => {
                    verdicts.1 += 1;
                    if revoked_at.is_none_or(|h| check.height < h) {
                        problems.push(format!(
                            "{data}: REVOKED for {name}, not revoked at that height (revoked at \
                             {revoked_at:?})"
                        ));
                    }
                }
                Verdict::Refused(code) => {
                    if check.height >= cert.height {
                        problems.push(format!(
                            "{data}: refused {name} ({code}), anchored at height {}",
                            cert.height
                        ));
                    } else {
                        verdicts.2 += 1;
                    }
                }
            }
        }
        self.findings.verdicts = verdicts;
        for p in problems {
            self.anomaly("counters", p);
        }
    }
}

/// Checks `history` against what the nodes hold (`views`, one per node); `certs` are the
/// certificates the counters checked, by their number in the history.
pub fn check(history: &History, views: &[NodeView], certs: &[CertInfo]) -> Findings {
    let mut checker = Checker {
        history,
        views,
        findings: Findings::default(),
    };
    checker.readable();
    checker.one_header_per_height();
    checker.agreement();
    checker.anchors();
    checker.revocations();
    checker.counters(certs);
    checker.findings
}

#[cfg(test)]
mod tests {
    use ecert_schemas::ledger::{BatchRecord, RevocationSnapshot, RevokedAt};
    use ecert_schemas::KeyId;

    use super::*;
    use crate::history::observe::ExportView;
    use crate::history::record::{Check, Op, Sync, SyncKind};

    fn issuer() -> IssuerId {
        IssuerId::new("justice").unwrap()
    }

    fn root(n: u8) -> Hash32 {
        Hash32([n; 32])
    }

    fn record(n: u8, height: u64) -> BatchRecord {
        BatchRecord {
            issuer: issuer(),
            key_id: KeyId([0; 8]),
            kinds: vec![],
            batch_root: root(n),
            count: 1,
            height,
            time_ms: 0,
        }
    }

    /// A node holding batches 1 and 2 (heights 1 and 2) and certificate #0 revoked at
    /// height 3, headers `header` at heights 1 to 3.
    fn view(node: usize, header: u8) -> NodeView {
        NodeView {
            node,
            checkpoints: (1..=3).map(|h| (h, vec![header, h as u8])).collect(),
            export: Some(ExportView {
                height: 3,
                header: vec![header, 3],
                anchors: vec![record(1, 1), record(2, 2)],
                revocations: RevocationSnapshot {
                    height: 3,
                    lists: vec![],
                },
            }),
            revoked_at: Some(vec![RevokedAt {
                height: 3,
                issuer: issuer(),
                index: StatusIndex(0),
            }]),
            ..NodeView::default()
        }
    }

    fn anchored(n: u8, height: u64, seq: u64) -> Op {
        Op {
            client: 0,
            node: 0,
            kind: OpKind::Anchor {
                issuer: issuer(),
                root: root(n),
            },
            invoked_ms: 0,
            completed_ms: 1,
            outcome: OpOutcome::Certified {
                height,
                batch_seq: Some(seq),
            },
        }
    }

    fn cert() -> Vec<CertInfo> {
        vec![CertInfo {
            issuer: issuer(),
            indexes: vec![StatusIndex(0)],
            height: 1,
        }]
    }

    fn valid(height: u64, as_of: u64) -> Check {
        Check {
            counter: 0,
            cert: 0,
            height,
            as_of,
            at_ms: 0,
            verdict: Verdict::Valid,
        }
    }

    fn checks_of(findings: &Findings) -> Vec<&'static str> {
        findings.anomalies.iter().map(|a| a.check).collect()
    }

    #[test]
    fn a_consistent_history_has_no_anomaly() {
        let history = History {
            ops: vec![anchored(1, 1, 0), anchored(2, 2, 1)],
            checks: vec![valid(2, 5)],
            ..History::default()
        };
        let findings = check(&history, &[view(0, 7), view(1, 7)], &cert());
        assert!(findings.anomalies.is_empty(), "{:?}", findings.anomalies);
        assert_eq!(findings.common_height, 3);
        assert_eq!(findings.verdicts, (1, 0, 0));
    }

    #[test]
    fn a_lost_or_moved_anchor_is_found() {
        let history = History {
            ops: vec![anchored(9, 2, 1), anchored(2, 2, 0)],
            ..History::default()
        };
        let findings = check(&history, &[view(0, 7)], &cert());
        assert_eq!(checks_of(&findings), ["anchors", "anchors"]);
    }

    #[test]
    fn two_headers_at_one_height_are_found() {
        let findings = check(&History::default(), &[view(0, 7), view(1, 8)], &cert());
        let found = checks_of(&findings);
        assert!(found.contains(&"one-header-per-height"), "{found:?}");
        assert!(found.contains(&"agreement"), "{found:?}");
    }

    #[test]
    fn a_lost_revocation_is_found() {
        let history = History {
            ops: vec![Op {
                kind: OpKind::Revoke {
                    issuer: issuer(),
                    indexes: vec![StatusIndex(5)],
                },
                outcome: OpOutcome::Certified {
                    height: 3,
                    batch_seq: None,
                },
                ..anchored(1, 1, 0)
            }],
            ..History::default()
        };
        let findings = check(&history, &[view(0, 7)], &cert());
        assert_eq!(checks_of(&findings), ["revocations"]);
    }

    #[test]
    fn valid_after_a_certified_revocation_is_found_by_height_and_by_time() {
        // The data includes the revoking block.
        let history = History {
            checks: vec![valid(3, 5)],
            ..History::default()
        };
        assert_eq!(
            checks_of(&check(&history, &[view(0, 7)], &cert())),
            ["counters"]
        );
        // Older data, but "as of" a time after a counter synced the revoking height.
        let history = History {
            checks: vec![valid(2, 10)],
            syncs: vec![Sync {
                counter: 1,
                node: 0,
                kind: SyncKind::Update,
                height: 3,
                at_ms: 9_500,
            }],
            ..History::default()
        };
        assert_eq!(
            checks_of(&check(&history, &[view(0, 7)], &cert())),
            ["counters"]
        );
        // As of a time before that: not an anomaly.
        let history = History {
            checks: vec![valid(2, 9)],
            ..history
        };
        assert!(check(&history, &[view(0, 7)], &cert()).anomalies.is_empty());
    }

    #[test]
    fn revoked_for_data_that_does_not_revoke_is_found() {
        let history = History {
            checks: vec![Check {
                verdict: Verdict::Revoked,
                ..valid(2, 5)
            }],
            ..History::default()
        };
        assert_eq!(
            checks_of(&check(&history, &[view(0, 7)], &cert())),
            ["counters"]
        );
    }

    #[test]
    fn copies_revoked_apart_are_found() {
        // Copies #0 and #1 of one certificate: the node holds only #0 revoked.
        let copies = vec![CertInfo {
            issuer: issuer(),
            indexes: vec![StatusIndex(0), StatusIndex(1)],
            height: 1,
        }];
        let findings = check(&History::default(), &[view(0, 7)], &copies);
        assert_eq!(checks_of(&findings), ["revocations"]);
        assert!(
            findings.anomalies[0].detail.contains("#0 (and 1 copies)"),
            "{:?}",
            findings.anomalies
        );
        // Both revoked at one height: nothing to say.
        let mut both = view(0, 7);
        both.revoked_at.as_mut().unwrap().push(RevokedAt {
            height: 3,
            issuer: issuer(),
            index: StatusIndex(1),
        });
        let findings = check(&History::default(), &[both], &copies);
        assert!(findings.anomalies.is_empty(), "{:?}", findings.anomalies);
    }
}
