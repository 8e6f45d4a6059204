//! The nemesis: at random intervals it kills a node (and restarts it later), stops one
//! gracefully, wipes one's data (it rejoins from the others), and, with the network lab,
//! isolates a node or the leader, cuts one direction of a node's links, or splits the
//! nodes in two halves; then it repairs the fault. The schedule comes from a seeded
//! generator, so one seed gives the same faults again. At most one node is hit at a time,
//! except for the rare faults that break the quorum on purpose for a few seconds
//! (`split`, `kill-two`).

use std::time::{Duration, Instant};

use super::record::{wall_ms, Fault, FaultKind, Recorder};
use super::rng::Rng;
use crate::http::Http;
use crate::network::LocalNetwork;
use crate::TestnetError;

#[cfg(target_os = "linux")]
use crate::netns::{Link, NetLab};

/// The network lab, where namespaces are available.
#[cfg(target_os = "linux")]
pub type Lab<'a> = Option<&'a NetLab>;
/// No network lab off Linux.
#[cfg(not(target_os = "linux"))]
pub type Lab<'a> = Option<&'a ()>;

/// How the nemesis paces its faults (seconds).
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// Shortest and longest quiet time between two faults.
    pub quiet: (u64, u64),
    /// Shortest and longest time a fault lasts.
    pub hold: (u64, u64),
}

/// How often each kind is drawn (relative weights).
const WEIGHTS: [(FaultKind, u64); 9] = [
    (FaultKind::Kill, 4),
    (FaultKind::Restart, 2),
    (FaultKind::Wipe, 3),
    (FaultKind::Isolate, 3),
    (FaultKind::IsolateLeader, 3),
    (FaultKind::CutIncoming, 2),
    (FaultKind::CutOutgoing, 2),
    (FaultKind::Split, 1),
    (FaultKind::KillTwo, 1),
];

/// Draws the next kind among those possible here.
fn draw(rng: &mut Rng, with_lab: bool) -> FaultKind {
    let usable: Vec<(FaultKind, u64)> = WEIGHTS
        .iter()
        .copied()
        .filter(|(k, _)| with_lab || !k.needs_lab())
        .collect();
    let total: u64 = usable.iter().map(|(_, w)| w).sum();
    let mut pick = rng.below(total);
    for (kind, weight) in &usable {
        if pick < *weight {
            return *kind;
        }
        pick -= weight;
    }
    FaultKind::Kill
}

/// The leader most answering nodes name, if any.
pub fn current_leader(net: &LocalNetwork, http: &Http) -> Option<usize> {
    let mut votes = vec![0usize; net.len()];
    for i in 0..net.len() {
        let leader = net
            .health(http, i)
            .and_then(|h| h.get("leader").and_then(serde_json::Value::as_u64))
            .and_then(|l| usize::try_from(l).ok());
        if let Some(slot) = leader.and_then(|l| votes.get_mut(l)) {
            *slot += 1;
        }
    }
    let (best, count) = votes.iter().enumerate().max_by_key(|(_, c)| **c)?;
    (*count > 0).then_some(best)
}

/// Sleeps until `until` or `deadline`, whichever is first.
fn sleep_until(until: Instant, deadline: Instant) {
    let end = until.min(deadline);
    let now = Instant::now();
    if end > now {
        std::thread::sleep(end - now);
    }
}

/// The nemesis of one run.
pub struct Nemesis<'a> {
    /// The nodes.
    pub net: &'a mut LocalNetwork,
    /// The lab, when the nodes run in it.
    pub lab: Lab<'a>,
    /// For `/health` (the leader, whether a node is up).
    pub http: Http,
    /// Where faults go.
    pub recorder: &'a Recorder,
    /// Its pace.
    pub pace: Pace,
}

impl Nemesis<'_> {
    /// Injects faults from `seed` until `deadline`, then repairs everything.
    pub fn run(&mut self, seed: u64, deadline: Instant) -> Result<(), TestnetError> {
        let mut rng = Rng::new(seed);
        let nodes = self.net.len();
        loop {
            let quiet = Duration::from_secs(rng.between(self.pace.quiet.0, self.pace.quiet.1));
            sleep_until(Instant::now() + quiet, deadline);
            if Instant::now() >= deadline {
                break;
            }
            // Every draw is made whatever the fault, so one seed gives one schedule.
            let kind = draw(&mut rng, self.lab.is_some());
            let first = rng.index(nodes);
            let second = (first + 1 + rng.index(nodes.saturating_sub(1))) % nodes.max(1);
            let hold = Duration::from_secs(rng.between(self.pace.hold.0, self.pace.hold.1));
            let targets = match kind {
                FaultKind::IsolateLeader => {
                    vec![current_leader(self.net, &self.http).unwrap_or(first)]
                }
                FaultKind::Split | FaultKind::KillTwo => vec![first, second],
                _ => vec![first],
            };
            let from_ms = wall_ms();
            let trouble = self.inject(kind, &targets).err().map(|e| e.to_string());
            let n = self.recorder.fault(Fault {
                kind,
                nodes: targets.clone(),
                from_ms,
                until_ms: 0,
                trouble,
            });
            // Faults that break the quorum last a short time.
            let hold = if matches!(kind, FaultKind::Split | FaultKind::KillTwo) {
                hold.min(Duration::from_secs(4))
            } else {
                hold
            };
            std::thread::sleep(hold);
            let trouble = self.repair(kind, &targets).err().map(|e| e.to_string());
            self.recorder.repaired(n, trouble);
            self.wait_caught_up(Duration::from_secs(30));
        }
        self.heal_all()
    }

    fn inject(&mut self, kind: FaultKind, targets: &[usize]) -> Result<(), TestnetError> {
        match kind {
            FaultKind::Kill | FaultKind::KillTwo => {
                for &i in targets {
                    self.net.kill(i)?;
                }
                Ok(())
            }
            FaultKind::Restart => targets.iter().try_for_each(|&i| self.net.stop(i)),
            FaultKind::Wipe => targets.iter().try_for_each(|&i| {
                self.net.kill(i)?;
                self.net.wipe(i)
            }),
            _ => self.cut(kind, targets),
        }
    }

    fn repair(&mut self, kind: FaultKind, targets: &[usize]) -> Result<(), TestnetError> {
        match kind {
            FaultKind::Kill | FaultKind::KillTwo | FaultKind::Restart | FaultKind::Wipe => {
                targets.iter().try_for_each(|&i| self.net.start(i))
            }
            _ => {
                self.heal();
                Ok(())
            }
        }
    }

    #[cfg(target_os = "linux")]
    fn cut(&self, kind: FaultKind, targets: &[usize]) -> Result<(), TestnetError> {
        let Some(lab) = self.lab else {
            return Err(TestnetError::local("nemesis", "no network lab"));
        };
        let lab_error = |e| TestnetError::local("network lab", e);
        let first = targets.first().copied().unwrap_or(0);
        match kind {
            FaultKind::Isolate | FaultKind::IsolateLeader => lab.isolate(first).map_err(lab_error),
            FaultKind::CutIncoming => lab.cut_incoming(first).map_err(lab_error),
            FaultKind::CutOutgoing => lab.cut_outgoing(first).map_err(lab_error),
            FaultKind::Split => {
                let half: Vec<usize> = targets.to_vec();
                for a in 0..lab.len() {
                    for b in (0..lab.len()).filter(|b| half.contains(&a) != half.contains(b)) {
                        lab.set_link(a, b, Link::CUT).map_err(lab_error)?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn cut(&self, _kind: FaultKind, _targets: &[usize]) -> Result<(), TestnetError> {
        Err(TestnetError::local("nemesis", "no network lab"))
    }

    fn heal(&self) {
        #[cfg(target_os = "linux")]
        if let Some(lab) = self.lab {
            lab.heal();
        }
    }

    /// Each node's applied height, if it answers.
    fn heights(&self) -> Vec<Option<u64>> {
        (0..self.net.len())
            .map(|i| {
                self.net
                    .health(&self.http, i)
                    .and_then(|h| h.get("height").and_then(serde_json::Value::as_u64))
            })
            .collect()
    }

    /// Waits (at most `limit`) until every node answers and has applied what the most
    /// advanced one had when the wait began: a restarted or wiped node has caught up
    /// before the next fault, so that no two nodes lack the same committed blocks (Raft
    /// keeps what a quorum stored, not what two wiped nodes lost).
    fn wait_caught_up(&self, limit: Duration) {
        let until = Instant::now() + limit;
        let target = self.heights().into_iter().flatten().max().unwrap_or(0);
        while Instant::now() < until {
            if self
                .heights()
                .iter()
                .all(|h| h.is_some_and(|h| h >= target))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Heals every link and starts every node.
    pub fn heal_all(&mut self) -> Result<(), TestnetError> {
        self.heal();
        self.net.start_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_lab_only_process_faults_are_drawn() {
        let mut rng = Rng::new(1);
        for _ in 0..500 {
            assert!(!draw(&mut rng, false).needs_lab());
        }
        let mut rng = Rng::new(1);
        let kinds: std::collections::BTreeSet<FaultKind> =
            (0..2000).map(|_| draw(&mut rng, true)).collect();
        assert_eq!(kinds.len(), FaultKind::ALL.len());
    }

    #[test]
    fn one_seed_draws_one_schedule() {
        let schedule = |seed| {
            let mut rng = Rng::new(seed);
            (0..50).map(|_| draw(&mut rng, true)).collect::<Vec<_>>()
        };
        assert_eq!(schedule(9), schedule(9));
        assert_ne!(schedule(9), schedule(10));
    }
}
