//! The lab's switch: a thread per TUN device reads the IP packets its namespace sends and
//! writes each to the TUN device of its destination, through the rules of that directed
//! link (cut, random loss, delay). Delayed packets wait in one delay line, in order of
//! their release time.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::NetnsError;

/// How long a reader waits for a packet before looking at the stop flag.
const POLL: Duration = Duration::from_millis(100);
/// Largest packet read (TUN's default MTU is 1500; this leaves room).
const MAX_PACKET: usize = 65_536;
/// Loss is counted in parts per million.
const PPM: u64 = 1_000_000;

/// What one directed node-to-node link does to the packets on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// Every packet is dropped.
    pub cut: bool,
    /// Every packet waits this long.
    pub delay: Duration,
    /// Packets dropped at random, in parts per million.
    pub loss_ppm: u32,
}

impl Link {
    /// Nothing done to the packets.
    pub const CLEAN: Link = Link {
        cut: false,
        delay: Duration::ZERO,
        loss_ppm: 0,
    };
    /// Nothing gets through.
    pub const CUT: Link = Link {
        cut: true,
        delay: Duration::ZERO,
        loss_ppm: 0,
    };

    /// Packets wait `delay` and a fraction `loss` (0 to 1) of them is lost.
    pub fn impaired(delay: Duration, loss: f64) -> Link {
        let ppm = (loss.clamp(0.0, 1.0) * PPM as f64).round();
        Link {
            cut: false,
            delay,
            // In range by the clamp above.
            loss_ppm: ppm as u32,
        }
    }
}

/// Packets the switch has handled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Written to their destination (at once or after their delay).
    pub forwarded: u64,
    /// Dropped on a cut link.
    pub cut: u64,
    /// Dropped at random on a lossy link.
    pub lost: u64,
    /// Held for a delay.
    pub delayed: u64,
}

#[derive(Default)]
struct Counters {
    forwarded: AtomicU64,
    cut: AtomicU64,
    lost: AtomicU64,
    delayed: AtomicU64,
}

/// A packet waiting in the delay line.
struct Delayed {
    at: Instant,
    seq: u64,
    port: usize,
    packet: Vec<u8>,
}

impl PartialEq for Delayed {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Delayed {}
impl PartialOrd for Delayed {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Delayed {
    /// Reversed: the earliest release on top of the (max-)heap.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// The switch of one lab.
pub(super) struct Switch {
    nodes: usize,
    rules: Arc<RwLock<Vec<Link>>>,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// What every reader needs.
#[derive(Clone)]
struct Fabric {
    nodes: usize,
    subnet: u8,
    ports: Arc<Vec<tun::Device>>,
    rules: Arc<RwLock<Vec<Link>>>,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    delay_line: Sender<Delayed>,
}

impl Switch {
    /// A switch for `nodes` nodes (and the host), every link clean, not started.
    pub(super) fn new(nodes: usize) -> Switch {
        Switch {
            nodes,
            rules: Arc::new(RwLock::new(vec![Link::CLEAN; nodes * nodes])),
            counters: Arc::new(Counters::default()),
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
        }
    }

    /// Starts forwarding between `ports`: the nodes' TUN devices in order, then the
    /// host's.
    pub(super) fn start(&mut self, ports: Vec<tun::Device>, subnet: u8) -> Result<(), NetnsError> {
        let (delay_tx, delay_rx) = mpsc::channel();
        let fabric = Fabric {
            nodes: self.nodes,
            subnet,
            ports: Arc::new(ports),
            rules: self.rules.clone(),
            counters: self.counters.clone(),
            stop: self.stop.clone(),
            delay_line: delay_tx,
        };
        let spawn = |name: String, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name)
                .spawn(f)
                .map_err(|e| NetnsError::Command {
                    command: "start the lab's switch".into(),
                    detail: e.to_string(),
                })
        };
        let line = fabric.clone();
        self.threads.push(spawn(
            "lab-delay".into(),
            Box::new(move || line.run_delay_line(delay_rx)),
        )?);
        for port in 0..fabric.ports.len() {
            let reader = fabric.clone();
            self.threads.push(spawn(
                format!("lab-port-{port}"),
                Box::new(move || reader.run_port(port)),
            )?);
        }
        Ok(())
    }

    /// Sets the directed link `from` → `to`.
    pub(super) fn set(&self, from: usize, to: usize, link: Link) {
        if let Ok(mut rules) = self.rules.write() {
            if let Some(slot) = rules.get_mut(from * self.nodes + to) {
                *slot = link;
            }
        }
    }

    /// The counters so far.
    pub(super) fn stats(&self) -> LinkStats {
        let c = &self.counters;
        LinkStats {
            forwarded: c.forwarded.load(Ordering::Relaxed),
            cut: c.cut.load(Ordering::Relaxed),
            lost: c.lost.load(Ordering::Relaxed),
            delayed: c.delayed.load(Ordering::Relaxed),
        }
    }

    /// Stops forwarding and waits for the threads.
    pub(super) fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A small, fast random source for loss (xorshift64*); quality is not a concern here.
struct Dice(u64);

impl Dice {
    fn new(salt: usize) -> Dice {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Dice((t ^ (salt as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

impl Fabric {
    /// The port of the packet's destination address, if it is in the lab.
    fn destination(&self, packet: &[u8]) -> Option<usize> {
        if packet.first().map(|b| b >> 4) != Some(4) {
            return None;
        }
        let dst = packet.get(16..20)?;
        if dst.get(..3)? != [10, 231, self.subnet] {
            return None;
        }
        match *dst.get(3)? {
            super::HOST_OCTET => Some(self.nodes),
            octet @ 1.. if usize::from(octet) <= self.nodes => Some(usize::from(octet) - 1),
            _ => None,
        }
    }

    fn link(&self, from: usize, to: usize) -> Link {
        if from >= self.nodes || to >= self.nodes {
            return Link::CLEAN;
        }
        self.rules
            .read()
            .ok()
            .and_then(|r| r.get(from * self.nodes + to).copied())
            .unwrap_or(Link::CLEAN)
    }

    fn write(&self, port: usize, packet: &[u8]) {
        if let Some(device) = self.ports.get(port) {
            if device.send(packet).is_ok() {
                self.counters.forwarded.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Reads what port `port` sends until stopped.
    fn run_port(&self, port: usize) {
        let Some(device) = self.ports.get(port) else {
            return;
        };
        let mut buf = vec![0u8; MAX_PACKET];
        let mut dice = Dice::new(port);
        let mut seq = 0u64;
        while !self.stop.load(Ordering::Relaxed) {
            let n = match device.recv_timeout(&mut buf, POLL) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // The device is gone (its namespace deleted): nothing more to read.
                Err(_) => return,
            };
            let Some(packet) = buf.get(..n) else { continue };
            let Some(to) = self.destination(packet) else {
                continue;
            };
            if to == port {
                continue;
            }
            let link = self.link(port, to);
            if link.cut {
                self.counters.cut.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if link.loss_ppm > 0 && dice.next() % PPM < u64::from(link.loss_ppm) {
                self.counters.lost.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if link.delay.is_zero() {
                self.write(to, packet);
                continue;
            }
            self.counters.delayed.fetch_add(1, Ordering::Relaxed);
            seq += 1;
            let delayed = Delayed {
                at: Instant::now() + link.delay,
                // Unique across ports: the port in the low bits.
                seq: (seq << 8) | (port as u64 & 0xff),
                port: to,
                packet: packet.to_vec(),
            };
            if self.delay_line.send(delayed).is_err() {
                return;
            }
        }
    }

    /// Releases delayed packets when their time comes, until stopped.
    fn run_delay_line(&self, incoming: Receiver<Delayed>) {
        let mut waiting = BinaryHeap::new();
        while !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            while waiting.peek().is_some_and(|d: &Delayed| d.at <= now) {
                if let Some(d) = waiting.pop() {
                    self.write(d.port, &d.packet);
                }
            }
            let wait = waiting
                .peek()
                .map(|d: &Delayed| d.at.saturating_duration_since(now))
                .unwrap_or(POLL)
                .min(POLL);
            match incoming.recv_timeout(wait) {
                Ok(d) => waiting.push(d),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_is_kept_in_parts_per_million() {
        assert_eq!(Link::impaired(Duration::ZERO, 0.05).loss_ppm, 50_000);
        assert_eq!(Link::impaired(Duration::ZERO, 2.0).loss_ppm, 1_000_000);
        assert_eq!(Link::impaired(Duration::ZERO, -1.0).loss_ppm, 0);
    }

    #[test]
    fn the_delay_line_releases_the_earliest_first() {
        let t = Instant::now();
        let mut heap = BinaryHeap::new();
        for (ms, seq) in [(30, 1), (10, 2), (20, 3), (10, 4)] {
            heap.push(Delayed {
                at: t + Duration::from_millis(ms),
                seq,
                port: 0,
                packet: vec![],
            });
        }
        let order: Vec<u64> = std::iter::from_fn(|| heap.pop().map(|d| d.seq)).collect();
        assert_eq!(order, [2, 4, 3, 1]);
    }
}
