//! `backup` and `restore`: the wallet re-sealed under a backup passphrase, and back. The
//! holder's history of presentations and the marks of the one-time copies shown travel
//! with it, encrypted like the rest.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::cli::{BackupArgs, RestoreArgs};
use crate::files::{self, Existing};
use crate::secrets;
use crate::wallet::{self, Wallet};

fn existing(force: bool) -> Existing {
    if force {
        Existing::Replace
    } else {
        Existing::Refuse
    }
}

fn exists(path: &Path) -> bool {
    path.try_exists().unwrap_or(true)
}

/// Whether two paths name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `backup FILE`.
pub fn backup(path: PathBuf, args: &BackupArgs) -> Result<()> {
    if same_file(&path, &args.file) {
        bail!("the backup must be a different file from the wallet itself");
    }
    if exists(&args.file) && !args.force {
        bail!(
            "{} already exists; it was left unchanged (add --force to replace it)",
            args.file.display()
        );
    }
    let w = Wallet::open(path)?;
    let passphrase = secrets::new(secrets::BACKUP)?;
    let bytes = wallet::seal(&w.contents, &w.history, &passphrase)?;
    files::write_atomically(&args.file, &bytes, existing(args.force))?;
    ecert_shell::outln!(
        "Backup of your wallet ({} certificate(s), {} presentation(s) in its history) \
         written to {}.",
        w.contents.packages.len(),
        w.history.len(),
        args.file.display()
    );
    ecert_shell::outln!(
        "Keep it somewhere safe, away from this device, and remember its passphrase: \
         without it the backup cannot be opened."
    );
    Ok(())
}

/// `restore FILE`.
pub fn restore(path: PathBuf, args: &RestoreArgs) -> Result<()> {
    if exists(&path) && !args.force {
        bail!(
            "there is already a wallet at {}; it was left unchanged (add --force to replace \
             it with the backup)",
            path.display()
        );
    }
    files::check_new_wallet_folder(&path)?;
    let bytes = files::read_limited(&args.file)
        .with_context(|| format!("cannot read the backup {}", args.file.display()))?;
    let backup_passphrase = secrets::existing(secrets::BACKUP)?;
    let (contents, history) = wallet::open_bytes(&bytes, &backup_passphrase, &args.file, "backup")?;
    drop(backup_passphrase);
    let passphrase = secrets::new(secrets::WALLET)?;
    let sealed = wallet::seal(&contents, &history, &passphrase)?;
    files::write_atomically(&path, &sealed, existing(args.force))?;
    ecert_shell::outln!(
        "Restored your wallet to {} ({} certificate(s), {} presentation(s) in its history).",
        path.display(),
        contents.packages.len(),
        history.len()
    );
    ecert_shell::outln!("Your wallet ID: {}", contents.holder.public_key());
    if contents.packages.iter().any(|held| held.copies().is_some()) {
        ecert_shell::outln!(
            "Note: the backup knows which one-time copies had been shown when it was made. \
             If you showed such certificates after that (on the old device), the copies \
             shown since may be shown again, and counters could link those presentations: \
             ask the department to issue those certificates again."
        );
    }
    Ok(())
}
