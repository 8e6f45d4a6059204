//! Killing the tools at their write points and at random moments, and a small full disk.
//!
//! The tools pass test-only crash points in every durable write
//! (`ecert_shell::crash_points`): [`points`] runs a command once to list them, [`crash_at`]
//! runs it again and lets it kill itself (SIGKILL) at one of them. [`kill_after`] kills a
//! command from outside after a delay drawn by a [`Dice`] whose seed is printed (and can
//! be given back with `ECERT_CRASH_SEED`). [`Tmpfs`] mounts a small RAM file system to
//! fill up (as root; skipped with a message when that is not possible, unless
//! `ECERT_REQUIRE_TMPFS=1`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd::{Cmd, Run};
use crate::scratch::Scratch;

/// The crash point switch (`ecert_shell::crash_points::CRASH_AT_ENV`).
pub const CRASH_AT_ENV: &str = "ECERT_CRASH_AT_WRITE";
/// The point counting switch (`ecert_shell::crash_points::COUNT_ENV`).
pub const COUNT_ENV: &str = "ECERT_COUNT_WRITES";
/// Seed of the random kills, to run a failing draw again.
pub const SEED_ENV: &str = "ECERT_CRASH_SEED";
/// When `1`, a test that cannot mount a tmpfs fails instead of skipping that part.
pub const REQUIRE_TMPFS_ENV: &str = "ECERT_REQUIRE_TMPFS";

/// Runs `cmd` to the end, counting its crash points; its run and the points, one
/// `N POINT PATH` line each, in order.
pub fn points(cmd: Cmd, scratch: &Scratch) -> (Run, Vec<String>) {
    let file = scratch.path(&format!("points-{}", unique()));
    let run = cmd.env(COUNT_ENV, &file).run();
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    (run, text.lines().map(str::to_owned).collect())
}

/// Runs `cmd`, killed at its `n`-th crash point (1-based); asserts that it was.
pub fn crash_at(cmd: Cmd, n: usize) -> Run {
    let run = cmd.env(CRASH_AT_ENV, n.to_string()).run();
    assert_eq!(
        run.code,
        None,
        "expected a kill at write point {n}:\n{}",
        run.all()
    );
    run
}

/// Starts `cmd` and kills it with SIGKILL after `delay` unless it ended before; whether
/// it was killed.
pub fn kill_after(mut cmd: Cmd, delay: Duration) -> bool {
    let mut child = cmd
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if start.elapsed() >= delay {
            let _ = child.kill();
            let _ = child.wait();
            return true;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// How long `cmd` takes to run to the end (it must succeed).
pub fn duration(cmd: Cmd) -> Duration {
    let start = Instant::now();
    cmd.run().ok();
    start.elapsed()
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

/// A small seeded random source (xorshift), its seed printed so a failing draw can be
/// repeated with `ECERT_CRASH_SEED`.
pub struct Dice(u64);

impl Dice {
    /// Seeded from `ECERT_CRASH_SEED`, else from the clock; prints the seed under `what`.
    pub fn new(what: &str) -> Dice {
        let seed = std::env::var(SEED_ENV)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        eprintln!("{what}: random kills seeded with {SEED_ENV}={seed}");
        Dice(seed | 1)
    }

    /// The next number.
    pub fn roll(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A delay between nothing and `max`.
    pub fn delay(&mut self, max: Duration) -> Duration {
        let micros = max.as_micros().max(1) as u64;
        Duration::from_micros(self.roll() % micros)
    }
}

/// The crash points to try of `total`: every one up to `limit` of them, else `limit`
/// spread evenly, always with the first and the last.
pub fn sample(total: usize, limit: usize) -> Vec<usize> {
    if total <= limit {
        return (1..=total).collect();
    }
    let mut out: Vec<usize> = (0..limit)
        .map(|i| 1 + i * (total - 1) / (limit - 1).max(1))
        .collect();
    out.dedup();
    out
}

/// A small tmpfs mounted on a scratch folder, unmounted when dropped.
pub struct Tmpfs {
    dir: PathBuf,
    _scratch: Scratch,
}

impl Tmpfs {
    /// Mounts a tmpfs of `kib` KiB, or says why not and returns `None` (fails instead when
    /// `ECERT_REQUIRE_TMPFS=1`).
    pub fn mount(name: &str, kib: u64) -> Option<Tmpfs> {
        let scratch = Scratch::new(&format!("tmpfs-{name}"));
        let dir = scratch.path("disk");
        std::fs::create_dir(&dir).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={kib}k,mode=0700"),
                "tmpfs",
            ])
            .arg(&dir)
            .output();
        let problem = match out {
            Ok(out) if out.status.success() => None,
            Ok(out) => Some(String::from_utf8_lossy(&out.stderr).trim().to_owned()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(problem) = problem {
            let required = std::env::var(REQUIRE_TMPFS_ENV).is_ok_and(|v| v == "1");
            assert!(
                !required,
                "cannot mount a tmpfs ({problem}) and {REQUIRE_TMPFS_ENV}=1"
            );
            eprintln!(
                "SKIPPED the full-disk part of {name}: cannot mount a tmpfs ({problem}); it \
                 needs root (set {REQUIRE_TMPFS_ENV}=1 to make this a failure)"
            );
            return None;
        }
        Some(Tmpfs {
            dir,
            _scratch: scratch,
        })
    }

    /// The mounted folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Fills the file system but for about `leave` bytes with the file `filler`; returns
    /// its path (delete it to free the space).
    pub fn fill(&self, leave: u64) -> PathBuf {
        let filler = self.dir.join("filler");
        let free = self.free();
        let size = free.saturating_sub(leave);
        std::fs::write(&filler, vec![0u8; size as usize]).unwrap();
        filler
    }

    /// Free bytes.
    pub fn free(&self) -> u64 {
        let out = Command::new("df")
            .args(["-B1", "--output=avail"])
            .arg(&self.dir)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

/// Copies the folder `from` (files and sub-folders, with their permissions) to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::metadata(from).unwrap().permissions()).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The files under `dir` whose names mark a temporary file of an atomic write
/// (`.NAME.tmp-…`), left by a crash.
pub fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(temporaries(&path));
        } else if entry.file_name().to_string_lossy().contains(".tmp-") {
            out.push(path);
        }
    }
    out
}
