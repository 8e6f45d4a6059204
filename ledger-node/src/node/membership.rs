//! Raft's membership follows the validator set. Whenever the applied state's validator
//! set differs from Raft's voters, the leader adds the new validators as learners, waits
//! until they have caught up with its log and the block that changed the set is certified
//! (validators that leave vote on it, so they stay until then), then makes exactly the
//! set's validators the voters (one joint-consensus change): validators that left are
//! removed from Raft.
//!
//! Each step is decided again from Raft's membership and the state every second, so the
//! work is idempotent and survives leader changes: a new leader does what is left. A
//! leader only acts once it has applied the newest membership entry, so its state is at
//! least as new as the set that membership was made from (a leader still applying its log
//! never goes back to an older set). Raft ids come from the validator keys
//! ([`crate::raft::node_id_of`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use openraft::{BasicNode, ChangeMembers, Membership};

use super::raft_net::member_node;
use super::shared::Shared;
use crate::raft::{node_id_of, NodeId};

/// How often the membership is compared with the validator set.
const RECONCILE_EVERY: Duration = Duration::from_secs(1);
/// How many log entries behind the leader a learner may be and still be made a voter.
const LEARNER_LAG: u64 = 64;
/// Longest wait for one membership change to commit (then the next round goes on).
const CHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// What the leader does next to bring Raft's membership to the validator set.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    /// The voters are the validator set.
    Done,
    /// Nothing now: the newest membership is not applied here yet, or learners are
    /// still catching up.
    Wait,
    /// Add these validators as learners.
    AddLearners(BTreeMap<NodeId, BasicNode>),
    /// Make exactly these the voters (the others leave).
    SetVoters(BTreeSet<NodeId>),
    /// Remove these learners, which are no validators.
    RemoveLearners(BTreeSet<NodeId>),
}

/// What the leader knows of Raft for [`next_step`].
struct RaftView<'a, F: Fn(NodeId) -> Option<u64>> {
    /// The newest membership (joint or not, voters and learners).
    membership: &'a Membership<NodeId, BasicNode>,
    /// Whether this node applied the entry that holds `membership`.
    applied: bool,
    /// How far a learner's log matches the leader's.
    matched: F,
    /// The leader's last log index.
    last_log_index: u64,
}

/// The next step from the validator set `target` (Raft id → member record) and Raft as
/// `raft` shows it; `change_certified` tells whether the block holding the newest
/// validator-set change is certified (on this node).
fn next_step<F: Fn(NodeId) -> Option<u64>>(
    target: &BTreeMap<NodeId, BasicNode>,
    raft: &RaftView<'_, F>,
    change_certified: bool,
) -> Step {
    let RaftView {
        membership,
        applied,
        matched,
        last_log_index,
    } = raft;
    let (applied, last_log_index) = (*applied, *last_log_index);
    if !applied || target.is_empty() {
        return Step::Wait;
    }
    let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
    let wanted: BTreeSet<NodeId> = target.keys().copied().collect();
    if membership.get_joint_config().len() <= 1 && voters == wanted {
        let strays: BTreeSet<NodeId> = membership
            .learner_ids()
            .filter(|id| !wanted.contains(id))
            .collect();
        return if strays.is_empty() {
            Step::Done
        } else {
            Step::RemoveLearners(strays)
        };
    }
    let missing: BTreeMap<NodeId, BasicNode> = target
        .iter()
        .filter(|(id, _)| membership.get_node(id).is_none())
        .map(|(id, node)| (*id, node.clone()))
        .collect();
    if !missing.is_empty() {
        return Step::AddLearners(missing);
    }
    let lagging = wanted.iter().any(|id| {
        !voters.contains(id)
            && matched(*id).is_none_or(|m| m.saturating_add(LEARNER_LAG) < last_log_index)
    });
    if lagging || !change_certified {
        return Step::Wait;
    }
    Step::SetVoters(wanted)
}

impl Shared {
    /// The validator set as Raft members: Raft id → record (address and peer id). `None`
    /// when two keys of the set have the same Raft id.
    fn raft_target(&self) -> Option<BTreeMap<NodeId, BasicNode>> {
        let current = self.current_validators_addressed();
        let mut target = BTreeMap::new();
        for (validator, address) in &current {
            let peer = super::net::peer_id_of(&validator.key.0).ok()?;
            let node = match address {
                Some(address) => member_node(address, peer),
                None => BasicNode::new(format!("/p2p/{peer}")),
            };
            if target.insert(node_id_of(&validator.key), node).is_some() {
                tracing::error!(
                    "two validator keys of the set have the same Raft id: Raft's membership \
                     is left as it is"
                );
                return None;
            }
        }
        Some(target)
    }

    /// One round on the leader: the next step, and doing it.
    async fn reconcile_membership(&self) {
        // Raft first, then the state: the state read after has applied at least what
        // Raft said was applied, so the set is at least as new as the membership.
        let (stored, applied, replication, last_log_index) = {
            let metrics = self.raft.metrics();
            let m = metrics.borrow();
            let stored = m.membership_config.clone();
            let applied =
                m.last_applied.map(|l| l.index) >= stored.log_id().as_ref().map(|l| l.index);
            (
                stored,
                applied,
                m.replication.clone(),
                m.last_log_index.unwrap_or(0),
            )
        };
        self.sync_roster();
        let Some(target) = self.raft_target() else {
            return;
        };
        let change_certified = self
            .machine
            .read(|s| s.validator_changes().last().map(|c| c.height))
            .ok()
            .flatten()
            .is_none_or(|h| matches!(self.certifier.checkpoint(h), Ok(Some(_))));
        let matched = |id: NodeId| {
            replication
                .as_ref()
                .and_then(|r| r.get(&id))
                .and_then(|l| l.as_ref())
                .map(|l| l.index)
        };
        let view = RaftView {
            membership: stored.membership(),
            applied,
            matched,
            last_log_index,
        };
        let step = next_step(&target, &view, change_certified);
        match step {
            Step::Done | Step::Wait => {}
            Step::AddLearners(nodes) => {
                for (id, node) in nodes {
                    tracing::info!(raft_id = id, addr = %node.addr, "adding a new validator as a Raft learner");
                    match tokio::time::timeout(
                        CHANGE_TIMEOUT,
                        self.raft.add_learner(id, node, false),
                    )
                    .await
                    {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::warn!(raft_id = id, "adding a learner: {e}"),
                        Err(_) => tracing::warn!(raft_id = id, "adding a learner timed out"),
                    }
                }
            }
            Step::SetVoters(voters) => {
                tracing::info!(?voters, "making the validator set Raft's voters");
                match tokio::time::timeout(
                    CHANGE_TIMEOUT,
                    self.raft.change_membership(voters, false),
                )
                .await
                {
                    Ok(Ok(_)) => tracing::info!("Raft's voters are the validator set"),
                    Ok(Err(e)) => tracing::warn!("changing Raft's voters: {e}"),
                    Err(_) => tracing::warn!("changing Raft's voters timed out: retrying"),
                }
            }
            Step::RemoveLearners(ids) => {
                tracing::info!(?ids, "removing Raft learners that are no validators");
                let change = ChangeMembers::RemoveNodes(ids);
                match tokio::time::timeout(
                    CHANGE_TIMEOUT,
                    self.raft.change_membership(change, false),
                )
                .await
                {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!("removing learners: {e}"),
                    Err(_) => tracing::warn!("removing learners timed out"),
                }
            }
        }
    }
}

/// Every second on every node, and at once when the validator set changed: brings the
/// roster up to date with the applied state (peers to dial, certification's sets) and, on
/// the leader, Raft's membership to the validator set.
pub(super) async fn follow_validator_set(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(RECONCILE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shared.set_changed.notified() => {}
        }
        shared.sync_roster();
        if shared.is_leader() {
            shared.reconcile_membership().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: NodeId) -> BasicNode {
        BasicNode::new(format!("/ip4/127.0.0.1/tcp/{}", 7000 + id))
    }

    fn target(ids: &[NodeId]) -> BTreeMap<NodeId, BasicNode> {
        ids.iter().map(|id| (*id, node(*id))).collect()
    }

    /// A membership with `voters` (one config, or two in joint consensus) and `learners`.
    fn membership(configs: &[&[NodeId]], learners: &[NodeId]) -> Membership<NodeId, BasicNode> {
        let configs: Vec<BTreeSet<NodeId>> = configs
            .iter()
            .map(|c| c.iter().copied().collect())
            .collect();
        let mut nodes: BTreeMap<NodeId, BasicNode> = BTreeMap::new();
        for id in configs.iter().flatten().chain(learners) {
            nodes.insert(*id, node(*id));
        }
        Membership::new(configs, nodes)
    }

    fn caught_up(_: NodeId) -> Option<u64> {
        Some(100)
    }

    /// The next step with the leader's last log index at 100 and the change certified.
    fn step(
        set: &BTreeMap<NodeId, BasicNode>,
        membership: &Membership<NodeId, BasicNode>,
        applied: bool,
        matched: impl Fn(NodeId) -> Option<u64>,
    ) -> Step {
        let view = RaftView {
            membership,
            applied,
            matched,
            last_log_index: 100,
        };
        next_step(set, &view, true)
    }

    #[test]
    fn nothing_to_do_when_the_voters_are_the_set() {
        let m = membership(&[&[1, 2, 3, 4]], &[]);
        assert_eq!(
            step(&target(&[1, 2, 3, 4]), &m, true, caught_up),
            Step::Done
        );
    }

    #[test]
    fn a_joining_validator_is_added_as_a_learner_then_made_a_voter_once_caught_up() {
        let set = target(&[1, 2, 3, 4, 5]);
        let m = membership(&[&[1, 2, 3, 4]], &[]);
        assert_eq!(
            step(&set, &m, true, caught_up),
            Step::AddLearners(target(&[5]))
        );
        let m = membership(&[&[1, 2, 3, 4]], &[5]);
        let behind = |id: NodeId| (id != 5).then_some(100);
        assert_eq!(step(&set, &m, true, behind), Step::Wait);
        let far_behind = |id: NodeId| Some(if id == 5 { 10 } else { 100 });
        assert_eq!(step(&set, &m, true, far_behind), Step::Wait);
        assert_eq!(
            step(&set, &m, true, caught_up),
            Step::SetVoters([1, 2, 3, 4, 5].into())
        );
    }

    #[test]
    fn a_replaced_key_joins_and_the_old_one_leaves_in_one_change() {
        let set = target(&[1, 2, 3, 6]);
        let m = membership(&[&[1, 2, 3, 4]], &[]);
        assert_eq!(
            step(&set, &m, true, caught_up),
            Step::AddLearners(target(&[6]))
        );
        let m = membership(&[&[1, 2, 3, 4]], &[6]);
        assert_eq!(
            step(&set, &m, true, caught_up),
            Step::SetVoters([1, 2, 3, 6].into())
        );
        // A departure alone needs no learner.
        let m = membership(&[&[1, 2, 3, 4]], &[]);
        assert_eq!(
            step(&target(&[1, 2, 3]), &m, true, caught_up),
            Step::SetVoters([1, 2, 3].into())
        );
    }

    #[test]
    fn an_interrupted_change_is_finished_and_stray_learners_removed() {
        // Left in joint consensus by a leader that stopped.
        let m = membership(&[&[1, 2, 3, 4], &[1, 2, 3, 6]], &[]);
        assert_eq!(
            step(&target(&[1, 2, 3, 6]), &m, true, caught_up),
            Step::SetVoters([1, 2, 3, 6].into())
        );
        // A learner added for a set that changed again meanwhile.
        let m = membership(&[&[1, 2, 3, 4]], &[9]);
        assert_eq!(
            step(&target(&[1, 2, 3, 4]), &m, true, caught_up),
            Step::RemoveLearners([9].into())
        );
    }

    #[test]
    fn a_leader_that_has_not_applied_the_newest_membership_waits() {
        let m = membership(&[&[1, 2, 3, 6]], &[]);
        // Its state still has the set before the change that made this membership.
        assert_eq!(
            step(&target(&[1, 2, 3, 4]), &m, false, caught_up),
            Step::Wait
        );
    }

    #[test]
    fn voters_change_only_once_the_block_that_changed_the_set_is_certified() {
        // Validator 4 leaves: it still votes on the block that removes it, so it stays a
        // voter (and gets that block) until the block is certified.
        let m = membership(&[&[1, 2, 3, 4]], &[]);
        let view = RaftView {
            membership: &m,
            applied: true,
            matched: caught_up,
            last_log_index: 100,
        };
        assert_eq!(next_step(&target(&[1, 2, 3]), &view, false), Step::Wait);
        assert_eq!(
            next_step(&target(&[1, 2, 3]), &view, true),
            Step::SetVoters([1, 2, 3].into())
        );
        // Learners are added meanwhile.
        assert_eq!(
            next_step(&target(&[1, 2, 3, 5]), &view, false),
            Step::AddLearners(target(&[5]))
        );
    }
}
