//! Where a tool keeps its data when not told: the XDG base directory rules.

use std::path::PathBuf;

use thiserror::Error;

/// Neither the tool's variable, nor `XDG_DATA_HOME`, nor `HOME` is set.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cannot tell where to keep the {what}: give {flag} or set {env}")]
pub struct NoHome {
    /// What is kept ("wallet").
    pub what: &'static str,
    /// The command-line option that names it.
    pub flag: &'static str,
    /// The environment variable that names it.
    pub env: &'static str,
}

/// Where a tool keeps one thing.
#[derive(Clone, Copy, Debug)]
pub struct DataPlace {
    /// What it is, for messages ("wallet").
    pub what: &'static str,
    /// The command-line option that names it ("--wallet FILE").
    pub flag: &'static str,
    /// The environment variable that names it ("ECERT_WALLET").
    pub env: &'static str,
    /// Its path under the data folder ("ecert/wallet.ecw").
    pub name: &'static str,
}

impl DataPlace {
    /// The path: `flag` if given, else `$env`, else `$XDG_DATA_HOME/NAME` (an absolute
    /// `XDG_DATA_HOME` only, as the specification says), else `$HOME/.local/share/NAME`.
    pub fn resolve(&self, flag: Option<PathBuf>) -> Result<PathBuf, NoHome> {
        if let Some(path) = flag {
            return Ok(path);
        }
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(path) = var(self.env) {
            return Ok(PathBuf::from(path));
        }
        if let Some(data) = var("XDG_DATA_HOME").map(PathBuf::from) {
            if data.is_absolute() {
                return Ok(data.join(self.name));
            }
        }
        if let Some(home) = var("HOME") {
            return Ok(PathBuf::from(home)
                .join(".local")
                .join("share")
                .join(self.name));
        }
        Err(NoHome {
            what: self.what,
            flag: self.flag,
            env: self.env,
        })
    }
}
