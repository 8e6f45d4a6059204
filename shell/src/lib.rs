//! # ecert-shell
//!
//! What every ecert tool needs around the pure core, in one place:
//!
//! - [`bulk`]: many small files written without a flush each, then made durable at once;
//! - [`crash_points`]: TEST ONLY, the points in those writes where a crash test kills the
//!   process;
//! - [`files`]: bounded reads, atomic writes (temporary file, fsync, rename, fsync of the
//!   folder), create-only writes, private folders;
//! - [`passphrase`]: a passphrase from the environment, a file or the terminal, the rule
//!   for new ones, and the key-derivation settings (with the one test-only switch);
//! - [`permissions`]: secret files and their folders refused when other users could read
//!   or change them, with the command that fixes it;
//! - [`paths`]: where a tool keeps its data when not told (XDG);
//! - [`clock`]: the current time as the core's [`ecert_schemas::UnixTime`];
//! - [`out`]: standard output that ends the program quietly when the reader went away
//!   (`ecert-testnet status | head -1`), through [`outln!`] and [`out!`];
//! - [`exit`]: one [`Failure`] type carrying an exit code, and [`exit::run`], the `main`
//!   of every tool.
//!
//! The HTTP client (`ecert-client`) and the server plumbing (`ecert-serve`) build on it too:
//! their certificate files are read with [`files::read_limited`]. The wallet library, the
//! verifier and the schemas never depend on this crate: they run in phones and browsers,
//! where none of this exists.

pub mod bulk;
pub mod clock;
pub mod crash_points;
pub mod exit;
pub mod files;
pub mod out;
pub mod passphrase;
pub mod paths;
pub mod permissions;

pub use exit::Failure;
