//! `init`, `id` and `passwd`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use ecert_qr::render;
use ecert_wallet::history::History;
use ecert_wallet::{HolderKey, WalletContents};
use rand_core::OsRng;

use crate::cli::IdArgs;
use crate::files::{self, Existing};
use crate::secrets;
use crate::wallet::{self, Wallet};

/// `init`: a new key, no certificates; never overwrites a wallet.
pub fn init(path: PathBuf) -> Result<()> {
    if path.try_exists().unwrap_or(true) {
        bail!(
            "there is already a wallet at {}; it was left unchanged (to replace it with a \
             backup, use 'ecert-wallet restore --force FILE')",
            path.display()
        );
    }
    files::check_new_wallet_folder(&path)?;
    let passphrase = secrets::new(secrets::WALLET)?;
    let contents = WalletContents {
        holder: HolderKey::generate(&mut OsRng),
        packages: Vec::new(),
    };
    let bytes = wallet::seal(&contents, &History::new(), &passphrase)?;
    files::write_atomically(&path, &bytes, Existing::Refuse)?;
    ecert_shell::outln!("Created your wallet: {}", path.display());
    ecert_shell::outln!("Your wallet ID: {}", contents.holder.public_key());
    ecert_shell::outln!();
    ecert_shell::outln!("Next steps:");
    ecert_shell::outln!("  ecert-wallet id             show your wallet ID to a department");
    ecert_shell::outln!("  ecert-wallet backup FILE    keep an encrypted copy somewhere safe");
    Ok(())
}

/// `id`: the holder public key as text and QR code.
pub fn id(path: PathBuf, args: &IdArgs) -> Result<()> {
    let w = Wallet::open(path)?;
    let key = w.contents.holder.public_key().to_hex();
    ecert_shell::outln!("Your wallet ID:");
    ecert_shell::outln!("{key}");
    ecert_shell::outln!();
    ecert_shell::outln!("{}", render::to_terminal(&key)?);
    ecert_shell::outln!(
        "Give this ID to the department that issues you a certificate (or let them scan the \
         QR code). It is not secret."
    );
    if let Some(png) = &args.png {
        files::write_atomically(png, &render::to_png(&key, 8)?, Existing::Replace)
            .with_context(|| format!("cannot save the QR code to {}", png.display()))?;
        ecert_shell::outln!("QR code saved to {}", png.display());
    }
    Ok(())
}

/// `passwd`: the same contents under a new passphrase, which must differ from the current
/// one.
pub fn passwd(path: PathBuf) -> Result<()> {
    let mut w = Wallet::open(path)?;
    w.passphrase = secrets::replacement(secrets::NEW_WALLET, &w.passphrase)?;
    w.save()
        .context("the passphrase was not changed: the wallet opens with the old one")?;
    ecert_shell::outln!("Your wallet's passphrase has been changed.");
    Ok(())
}
