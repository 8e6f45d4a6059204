//! A network lab for partition tests: each node in its own network namespace, joined by a
//! switch this process runs, so that links can be cut (both ways or one way), delayed and
//! made lossy, and healed again.
//!
//! Layout of one lab (`ID` is unique per lab, `S` a free private subnet):
//!
//! ```text
//!   namespace ecert-ID-0         namespace ecert-ID-1   ...   the test process's namespace
//!   TUN ecert-ID-0               TUN ecert-ID-1               TUN ecert-ID-h
//!   10.231.S.1/24                10.231.S.2/24                10.231.S.254/24
//!          \                           |                            /
//!           +------------- the switch (threads of this process) --+
//!              per directed node-to-node link: cut, delay, loss
//! ```
//!
//! Each TUN device is opened by this process and then moved into its namespace, so the
//! switch reads every IP packet a node sends and writes it to the TUN of its destination,
//! applying the rules of that directed link: dropped (cut), held for a delay, or dropped
//! at random (loss). Links to and from the host's address (`.254`, the tests' HTTP
//! client) are never impaired, so the tests can always see every node. The kernel's
//! `netem` queueing discipline would do the same in the kernel, but it is not built into
//! every kernel (it is not on this project's machines); the switch needs only TUN and
//! network namespaces.
//!
//! Nothing of the host's own network is changed: the one device in the host's namespace
//! is the lab's own TUN, and it disappears with this process. [`NetLab`] deletes its
//! namespaces on drop; namespaces left by a process that crashed (their TUN devices
//! vanished with it) are deleted by the next [`NetLab::create`].

mod ip;
mod switch;

use std::net::Ipv4Addr;
use std::time::Duration;

pub use switch::{Link, LinkStats};

/// The variable that makes an unavailable lab an error instead of a skipped test (CI sets
/// it: there, tests that need namespaces must run).
pub const REQUIRE_ENV: &str = "ECERT_REQUIRE_NETNS";

/// The last octet of the host's address in the lab's subnet.
const HOST_OCTET: u8 = 254;
/// Most nodes in one lab.
pub const MAX_NODES: usize = 200;

/// What went wrong with the lab.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// Network namespaces or TUN devices cannot be made here (not root, no `ip`, no
    /// `/dev/net/tun`): tests that need them are skipped, unless [`REQUIRE_ENV`] is set.
    #[error("network namespaces are not available here: {0}")]
    Unavailable(String),
    /// A command that sets up or changes the lab failed.
    #[error("{command}: {detail}")]
    Command {
        /// The command line.
        command: String,
        /// What it printed or why it did not run.
        detail: String,
    },
    /// A node index outside the lab.
    #[error("no node {0} in this lab")]
    NoSuchNode(usize),
    /// Too many nodes, or no free subnet.
    #[error("{0}")]
    Layout(String),
}

/// Whether a missing lab must fail rather than skip ([`REQUIRE_ENV`] is set to `1`).
pub fn required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// A lab of `n` node namespaces joined by the switch. Dropping it stops the switch and
/// deletes the namespaces (stop the processes in them first).
pub struct NetLab {
    id: String,
    subnet: u8,
    namespaces: Vec<String>,
    switch: switch::Switch,
}

impl NetLab {
    /// Makes a lab of `nodes` namespaces, after deleting namespaces that crashed labs left.
    /// Fails with [`NetnsError::Unavailable`] where namespaces or TUN devices cannot be
    /// made.
    pub fn create(nodes: usize) -> Result<NetLab, NetnsError> {
        if nodes == 0 || nodes > MAX_NODES {
            return Err(NetnsError::Layout(format!(
                "a lab has 1 to {MAX_NODES} nodes, not {nodes}"
            )));
        }
        ip::check_available()?;
        ip::remove_stale()?;
        let id = ip::fresh_id()?;
        let subnet = ip::free_subnet(&id)?;
        let mut lab = NetLab {
            id: id.clone(),
            subnet,
            namespaces: Vec::new(),
            switch: switch::Switch::new(nodes),
        };
        let mut ports = Vec::new();
        for i in 0..nodes {
            let name = format!("ecert-{id}-{i}");
            ip::add_namespace(&name)?;
            lab.namespaces.push(name.clone());
            let device = ip::open_tun(&name)?;
            ip::move_into(&name, &name)?;
            ip::configure(Some(&name), &name, lab.node_ip(i)?)?;
            ports.push(device);
        }
        let host = format!("ecert-{id}-h");
        let host_device = ip::open_tun(&host)?;
        ip::configure(None, &host, lab.host_ip())?;
        ports.push(host_device);
        lab.switch.start(ports, subnet)?;
        Ok(lab)
    }

    /// The lab's unique id (part of every name it makes).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.namespaces.len()
    }

    /// Whether the lab has no nodes.
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
    }

    /// Node `i`'s namespace (`ip netns exec NAME ...`).
    pub fn namespace(&self, i: usize) -> Result<&str, NetnsError> {
        self.namespaces
            .get(i)
            .map(String::as_str)
            .ok_or(NetnsError::NoSuchNode(i))
    }

    /// Node `i`'s address.
    pub fn node_ip(&self, i: usize) -> Result<Ipv4Addr, NetnsError> {
        let octet = u8::try_from(i + 1)
            .ok()
            .filter(|o| *o < HOST_OCTET)
            .ok_or(NetnsError::NoSuchNode(i))?;
        Ok(Ipv4Addr::new(10, 231, self.subnet, octet))
    }

    /// The address of this process's end of the lab (never impaired).
    pub fn host_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 231, self.subnet, HOST_OCTET)
    }

    fn check(&self, i: usize) -> Result<(), NetnsError> {
        self.namespace(i).map(drop)
    }

    /// Sets the directed link `from` → `to` (packets node `from` sends to node `to`).
    pub fn set_link(&self, from: usize, to: usize, link: Link) -> Result<(), NetnsError> {
        self.check(from)?;
        self.check(to)?;
        self.switch.set(from, to, link);
        Ok(())
    }

    /// Cuts node `node` off from every other node, both ways (its link to this process
    /// stays).
    pub fn isolate(&self, node: usize) -> Result<(), NetnsError> {
        self.cut_incoming(node)?;
        self.cut_outgoing(node)
    }

    /// Drops everything other nodes send to `node`; what it sends still arrives.
    pub fn cut_incoming(&self, node: usize) -> Result<(), NetnsError> {
        self.check(node)?;
        for other in (0..self.len()).filter(|o| *o != node) {
            self.switch.set(other, node, Link::CUT);
        }
        Ok(())
    }

    /// Drops everything `node` sends to other nodes; what they send still arrives.
    pub fn cut_outgoing(&self, node: usize) -> Result<(), NetnsError> {
        self.check(node)?;
        for other in (0..self.len()).filter(|o| *o != node) {
            self.switch.set(node, other, Link::CUT);
        }
        Ok(())
    }

    /// Gives every node-to-node link, both ways, `delay` and `loss` (a fraction, 0 to 1).
    pub fn impair_all(&self, delay: Duration, loss: f64) {
        let link = Link::impaired(delay, loss);
        for from in 0..self.len() {
            for to in (0..self.len()).filter(|t| *t != from) {
                self.switch.set(from, to, link);
            }
        }
    }

    /// Makes every link clean again.
    pub fn heal(&self) {
        for from in 0..self.len() {
            for to in (0..self.len()).filter(|t| *t != from) {
                self.switch.set(from, to, Link::CLEAN);
            }
        }
    }

    /// Packets forwarded and dropped so far.
    pub fn stats(&self) -> LinkStats {
        self.switch.stats()
    }
}

impl Drop for NetLab {
    fn drop(&mut self) {
        self.switch.stop();
        for name in &self.namespaces {
            ip::remove_namespace(name);
        }
    }
}
