//! `init`: set the counter up with the ledger's trust anchor.

use anyhow::{Context, Result};

use crate::cli::InitArgs;
use crate::store::{self, Store};

/// Stores the anchor; refuses to replace a different one without `--force`.
pub fn run(store: &Store, args: &InitArgs) -> Result<String> {
    let shown = args.anchor.display();
    let bytes = store::read_limited(&args.anchor, store::anchor_limit())?;
    let text = String::from_utf8(bytes)
        .map_err(|_| crate::exit::counter(format!("the anchor file {shown} is not a text file")))?;
    let anchor = store::parse_anchor(&text)
        .with_context(|| format!("the anchor file {shown} is not a trust anchor"))?;

    let existing = match store.read_anchor() {
        Ok(existing) => existing,
        Err(e) if args.force => {
            crate::output::note(&format!("warning: replacing an unreadable anchor: {e:#}\n"));
            None
        }
        Err(e) => return Err(e.context("use --force to replace it")),
    };
    let mut text = String::new();
    match existing {
        Some(current) if current == anchor => {
            return Ok(format!(
                "This counter is already set up for ledger {} (validators {}). Nothing changed.\n",
                anchor.chain_id, anchor.validators_hash
            ));
        }
        Some(current) if !args.force => {
            return Err(crate::exit::refused(format!(
                "this counter is already set up for ledger {} (validators {}); the file {shown} \
                 is for ledger {} (validators {}). Nothing changed. Use --force only if the \
                 department running the ledger told you to change it (this deletes the synced \
                 data)",
                current.chain_id, current.validators_hash, anchor.chain_id, anchor.validators_hash
            ))
            .into());
        }
        Some(current) => {
            store.write_anchor(&anchor)?;
            if store.remove_bundle()? {
                text.push_str("The ledger data synced for the previous anchor was deleted.\n");
            }
            text.insert_str(
                0,
                &format!(
                    "Replaced the trust anchor for ledger {} (validators {}).\n",
                    current.chain_id, current.validators_hash
                ),
            );
        }
        None => store.write_anchor(&anchor)?,
    }
    text.push_str(&format!(
        "This counter now trusts ledger {}, validator set {}.\n\
         Store: {}\n\
         Next: ecert-verify sync --node https://HOST:PORT (a ledger node), or\n\
         \x20     ecert-verify sync --from-file BUNDLE (a file exported by a ledger node)\n",
        anchor.chain_id,
        anchor.validators_hash,
        store.dir().display()
    ));
    Ok(text)
}
