//! Running the workspace's binaries (`ecert-verify`, `ecert-wallet`, `ecert-issuer`,
//! `ecert-node`, `ecert-testnet`) as their users do, with:
//!
//! - the binary found beside the test executable (`target/<profile>/`, the parent of the
//!   `deps/` folder tests run from), so that any crate's test can run any tool that cargo
//!   built for it;
//! - `ECERT_TEST_KDF=1`, the one test switch for cheap passphrase key derivation
//!   (read by `ecert_shell::passphrase::kdf_params`); the tools' older switches are set
//!   too while they move over;
//! - nothing inherited that could change the tools' behaviour (proxies, colours, the
//!   tools' own location variables), and stdin closed unless given;
//! - a [`Run`] whose assertions print the command, its exit code, stdout and stderr.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The test key-derivation switch.
pub const TEST_KDF_ENV: &str = "ECERT_TEST_KDF";

/// The tools' earlier per-tool switches, still set during the move to [`TEST_KDF_ENV`].
const OLD_TEST_KDF_ENVS: [&str; 3] = [
    "ECERT_WALLET_TEST_KDF",
    "ECERT_ISSUER_TEST_KDF",
    "ECERT_NODE_TEST_KDF",
];

/// Environment variables that would change what the tools do or where they look.
const CLEARED: [&str; 12] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ECERT_VERIFY_STORE",
    "ECERT_WALLET",
    "ECERT_ISSUER_HOME",
    "ECERT_BACKUP_PASSPHRASE",
    "ECERT_NEW_WALLET_PASSPHRASE",
    "ECERT_WALLET_PASSPHRASE",
];

/// The path of the workspace binary `name` built beside the running test.
pub fn bin_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let mut dir = exe.parent().unwrap().to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} was not built: declare the feature that builds {name} as the test's \
         required-features, or build it first",
        path.display()
    );
    path
}

/// A command line for one of the workspace's binaries.
pub struct Cmd {
    command: Command,
    stdin: Option<Vec<u8>>,
    label: String,
}

impl Cmd {
    /// The workspace binary `name` (see [`bin_path`]).
    pub fn new(name: &str) -> Cmd {
        Cmd::at(bin_path(name))
    }

    /// The binary at `path`.
    pub fn at(path: impl AsRef<Path>) -> Cmd {
        let path = path.as_ref();
        let mut command = Command::new(path);
        for var in CLEARED {
            command.env_remove(var);
        }
        command.env(TEST_KDF_ENV, "1").env("NO_COLOR", "1");
        for var in OLD_TEST_KDF_ENVS {
            command.env(var, "1");
        }
        let label = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy()
            .into_owned();
        Cmd {
            command,
            stdin: None,
            label,
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.label.push(' ');
        self.label.push_str(&arg.as_ref().to_string_lossy());
        self.command.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Cmd {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    /// Sets an environment variable (e.g. a passphrase).
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Cmd {
        self.command.env(key, value);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(mut self, key: &str) -> Cmd {
        self.command.env_remove(key);
        self
    }

    /// Gives `text` on standard input (closed after it).
    pub fn stdin(mut self, text: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(text.into());
        self
    }

    /// The underlying command, for what this builder does not cover.
    pub fn command(&mut self) -> &mut Command {
        &mut self.command
    }

    /// Runs to the end and collects what it printed.
    pub fn run(mut self) -> Run {
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self
            .command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.label));
        if let Some(input) = self.stdin.take() {
            let mut pipe = child.stdin.take().unwrap();
            // A tool may exit without reading everything: that is its answer, not ours.
            let _ = pipe.write_all(&input);
        }
        let out = child.wait_with_output().unwrap();
        Run {
            label: self.label,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Starts it in the background with stdout piped (for servers: read the address it
    /// prints) and stderr discarded.
    pub fn spawn(mut self) -> Child {
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.label))
    }
}

/// What a finished command printed, and how it exited.
#[derive(Clone, Debug)]
pub struct Run {
    /// The command line, for messages.
    pub label: String,
    /// The exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Whether it exited with 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The exit code; panics if the process was killed.
    #[track_caller]
    pub fn code(&self) -> i32 {
        self.code
            .unwrap_or_else(|| panic!("{} was killed:\n{}", self.label, self.all()))
    }

    /// stdout and stderr together, for messages.
    pub fn all(&self) -> String {
        format!(
            "$ {}\nexit code: {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.label, self.code, self.stdout, self.stderr
        )
    }

    /// Asserts success; returns stdout.
    #[track_caller]
    pub fn ok(&self) -> String {
        assert!(self.success(), "expected success:\n{}", self.all());
        self.stdout.clone()
    }

    /// Asserts the exit code is `code`; returns stderr.
    #[track_caller]
    pub fn fails_with(&self, code: i32) -> String {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code:\n{}",
            self.all()
        );
        self.stderr.clone()
    }
}

/// `path` as a `&str` argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}
