//! The department operator's tool, `ecert-issuer`: a home folder set up against a
//! [`FakeNode`], and the `issue` command line built once instead of in every test.

use std::path::{Path, PathBuf};

use ecert_schemas::PublicKeyBytes;

use crate::cmd::{Cmd, Run};
use crate::fake_node::FakeNode;
use crate::scratch::Scratch;

/// The home's passphrase in these tests.
pub const PASSPHRASE: &str = "department passphrase";
/// The fake ledger's chain id.
pub const CHAIN: &str = "ecert-issuer-test";

/// `ecert-issuer --home HOME` with the passphrase in the environment.
pub fn cmd(home: &Path) -> Cmd {
    Cmd::new("ecert-issuer")
        .env("ECERT_ISSUER_PASSPHRASE", PASSPHRASE)
        .arg("--home")
        .arg(home)
}

/// Runs `ecert-issuer --home HOME ARGS...`.
pub fn run(home: &Path, args: &[&str]) -> Run {
    cmd(home).args(args).run()
}

/// A department's home folder, initialised for `justice` (allowed to issue
/// no-criminal-record certificates), configured with a fake node that registered its key
/// and with that node's trust anchor.
pub struct Department {
    /// A scratch folder for the test's files (the home is `home` inside it).
    pub dir: Scratch,
    /// The home folder.
    pub home: PathBuf,
    /// The ledger node.
    pub node: FakeNode,
}

impl Department {
    /// Sets it up.
    pub fn setup(name: &str) -> Department {
        let dir = Scratch::new(&format!("issuer-{name}"));
        let home = dir.path("home");
        run(&home, &["init", "--issuer", "justice"]).ok();
        let key = PublicKeyBytes::from_hex(run(&home, &["key"]).ok().trim()).unwrap();
        let node = FakeNode::for_issuer(CHAIN, "justice", &key, &["no-criminal-record"]);
        let anchor = dir.write("anchor.toml", node.anchor_toml());
        run(&home, &["config", "--node", &node.url]).ok();
        run(&home, &["set-anchor", anchor.to_str().unwrap()]).ok();
        Department { dir, home, node }
    }

    /// Runs `ecert-issuer` on this home.
    pub fn run(&self, args: &[&str]) -> Run {
        run(&self.home, args)
    }

    /// Writes a file in the scratch folder.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        self.dir.write(name, content)
    }
}

/// An `ecert-issuer issue` command line.
#[derive(Clone, Debug)]
pub struct Issue {
    args: Vec<String>,
}

/// `issue --kind KIND --claims FILE --holder HOLDER`: one certificate from a JSON or TOML
/// file.
pub fn issue(kind: &str, claims: &Path, holder: &str) -> Issue {
    Issue {
        args: vec![
            "issue".into(),
            "--kind".into(),
            kind.into(),
            "--claims".into(),
            path(claims),
            "--holder".into(),
            holder.into(),
        ],
    }
}

/// `issue --kind KIND --csv FILE`: one certificate a row.
pub fn issue_csv(kind: &str, csv: &Path) -> Issue {
    Issue {
        args: vec![
            "issue".into(),
            "--kind".into(),
            kind.into(),
            "--csv".into(),
            path(csv),
        ],
    }
}

fn path(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

impl Issue {
    /// `--out FILE`.
    pub fn out(self, file: &Path) -> Issue {
        self.arg("--out").arg(&path(file))
    }

    /// `--out-dir DIR`.
    pub fn out_dir(self, dir: &Path) -> Issue {
        self.arg("--out-dir").arg(&path(dir))
    }

    /// `--offer`.
    pub fn offer(self) -> Issue {
        self.arg("--offer")
    }

    /// Any other argument.
    pub fn arg(mut self, arg: &str) -> Issue {
        self.args.push(arg.to_owned());
        self
    }

    /// Other arguments.
    pub fn args(self, args: &[&str]) -> Issue {
        args.iter().fold(self, |issue, arg| issue.arg(arg))
    }

    /// The command on `home`, to change its environment before running it.
    pub fn cmd(&self, home: &Path) -> Cmd {
        cmd(home).args(&self.args)
    }

    /// Runs it on `home`.
    pub fn run(&self, home: &Path) -> Run {
        self.cmd(home).run()
    }
}
