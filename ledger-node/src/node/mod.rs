//! The running node: Raft over libp2p, block cutting on the leader, certification of every
//! applied header, and the client API.
//!
//! Data flow: a client submits a transaction over HTTP; the node checks it with the same
//! rules the state machine applies ([`crate::state::LedgerState::check`]) and queues it on
//! the leader (forwarding it over libp2p when it is not the leader). The leader cuts a
//! block from its queue every block interval (never an empty one) and proposes it through
//! Raft. Every node applies committed blocks with the deterministic state machine, signs
//! the resulting header (when it is a validator of that height's set), spreads its vote to
//! the other validators and stores a checkpoint once more than two thirds of that set
//! signed. Clients waiting on a transaction are answered when its block is certified.
//!
//! The validator set changes by governance: the roster follows the applied state (peers,
//! permissions, certification's sets), and the leader brings Raft's membership to the new
//! set (`membership`).
//!
//! | module | what it is |
//! |---|---|
//! | `start` | [`Node::start`]: wires storage, the network, Raft, the API and the tasks |
//! | `shared` | [`Shared`]: what the tasks and the API share; the clock reading passed in |
//! | `submit` | decode, check and queue a transaction (client or forwarded) |
//! | `dispatch` | answers other nodes' requests |
//! | `cutter` | block cutting on the leader |
//! | `follower` | following applied blocks: votes, waking waiting clients |
//! | `votes` | spreading header votes, and again for uncertified heights |
//! | `freshness` | stating every period that the newest certified header still is |
//! | `checkpoints` | pulling missed checkpoints, waiting for certification |
//! | `certifier` | the storage shell around the pure [`crate::vote_pool::VotePool`] |
//! | `mempool` | the leader's queue (pure: told the time) |
//! | `roster` | the validators as the node sees them: sets by height, peers to dial, who may send what, the proven set learned from peers |
//! | `membership` | Raft's membership brought to the validator set by the leader |

pub mod api;
mod certifier;
mod checkpoints;
mod cutter;
mod dispatch;
mod follower;
mod freshness;
mod membership;
mod mempool;
mod metrics;
pub mod net;
mod raft_net;
mod roster;
mod shared;
mod start;
mod submit;
mod votes;
pub mod wire;

pub use certifier::Certifier;
pub use checkpoints::wait_certified;
pub use metrics::{Gauges, Metrics};
pub use shared::{Shared, TxDone};
pub use start::{Node, NodeConfig, Serving, DEFAULT_HEARTBEAT_MS};
pub use submit::SubmitError;
