//! `init`: set the counter up with the ledger's trust anchor, the national anchor, or
//! both. Both files are read and checked, and both decisions made, before anything is
//! stored.

use std::path::Path;

use anyhow::{Context, Result};
use ecert_schemas::federation::NationalAnchor;
use ecert_verifier::TrustAnchor;

use crate::cli::InitArgs;
use crate::exit;
use crate::store::{self, Store};

/// What `init` does with one anchor.
enum Plan<T> {
    /// The counter has this one already.
    Same,
    /// The counter has none: store it.
    New,
    /// The counter has another one (`--force`): replace it, deleting what was synced under
    /// it.
    Replace(T),
}

/// Stores the anchors given; refuses to replace a different one without `--force`.
pub fn run(store: &Store, args: &InitArgs) -> Result<String> {
    let home = match &args.anchor {
        Some(path) => Some((
            path.display().to_string(),
            read_text(path, "anchor file")
                .and_then(|t| store::parse_anchor(&t))
                .with_context(|| {
                    format!("the anchor file {} is not a trust anchor", path.display())
                })?,
        )),
        None => None,
    };
    let national = match &args.national_anchor {
        Some(path) => Some((
            path.display().to_string(),
            read_text(path, "national anchor file")
                .and_then(|t| store::parse_national_anchor(&t))
                .with_context(|| {
                    format!(
                        "the national anchor file {} is not a national anchor",
                        path.display()
                    )
                })?,
        )),
        None => None,
    };
    let home_plan = match &home {
        Some((shown, anchor)) => Some(plan(store.read_anchor(), anchor, args.force, |current| {
            format!(
                "this counter is already set up for ledger {} (validators {}); the file {shown} \
                 is for ledger {} (validators {}). Nothing changed. Use --force only if the \
                 department running the ledger told you to change it (this deletes the synced \
                 data)",
                current.chain_id, current.validators_hash, anchor.chain_id, anchor.validators_hash
            )
        })?),
        None => None,
    };
    let national_plan = match &national {
        Some((shown, anchor)) => Some(plan(
            store.read_national_anchor(),
            anchor,
            args.force,
            |current| {
                format!(
                    "this counter already has the national anchor of {} ({} keys); the file \
                     {shown} is another ({}, {} keys). Nothing changed. Use --force only if the \
                     national body told you to change it (this deletes the national trust list \
                     and every other province's synced data)",
                    current.federation,
                    current.keys.len(),
                    anchor.federation,
                    anchor.keys.len()
                )
            },
        )?),
        None => None,
    };

    let mut text = String::new();
    if let (Some((_, anchor)), Some(plan)) = (&home, home_plan) {
        text.push_str(&apply_home(store, anchor, plan)?);
    }
    if let (Some((_, anchor)), Some(plan)) = (&national, national_plan) {
        text.push_str(&apply_national(store, anchor, plan)?);
    }
    text.push_str(&format!("Store: {}\n", store.dir().display()));
    if home.is_some() {
        text.push_str(
            "Next: ecert-verify sync --node https://HOST:PORT (a ledger node), or\n\
             \x20     ecert-verify sync --from-file BUNDLE (a file exported by a ledger node)\n",
        );
    }
    if national.is_some() {
        text.push_str(
            "Next: ecert-verify sync --trust-list FILE (the national trust list), then\n\
             \x20     ecert-verify sync --province CHAIN_ID --node URL for each province served\n",
        );
    }
    Ok(text)
}

/// Reads a small text file given on the command line.
fn read_text(path: &Path, what: &str) -> Result<String> {
    let bytes = store::read_limited(path, store::anchor_limit())?;
    String::from_utf8(bytes).map_err(|_| {
        exit::counter(format!("the {what} {} is not a text file", path.display())).into()
    })
}

/// What to do with `new` given what the counter has (`existing`); a refusal
/// ([`exit::REFUSED`], message from `conflict`) when it has another and `force` is off.
fn plan<T: PartialEq>(
    existing: Result<Option<T>>,
    new: &T,
    force: bool,
    conflict: impl FnOnce(&T) -> String,
) -> Result<Plan<T>> {
    let existing = match existing {
        Ok(existing) => existing,
        Err(e) if force => {
            crate::output::note(&format!("warning: replacing an unreadable anchor: {e:#}\n"));
            return Ok(Plan::New);
        }
        Err(e) => return Err(e.context("use --force to replace it")),
    };
    match existing {
        None => Ok(Plan::New),
        Some(current) if &current == new => Ok(Plan::Same),
        Some(current) if force => Ok(Plan::Replace(current)),
        Some(current) => Err(exit::refused(conflict(&current)).into()),
    }
}

fn apply_home(store: &Store, anchor: &TrustAnchor, plan: Plan<TrustAnchor>) -> Result<String> {
    let mut text = String::new();
    match plan {
        Plan::Same => {
            return Ok(format!(
                "This counter is already set up for ledger {} (validators {}). Nothing changed.\n",
                anchor.chain_id, anchor.validators_hash
            ))
        }
        Plan::Replace(current) => {
            store.write_anchor(anchor)?;
            text.push_str(&format!(
                "Replaced the trust anchor for ledger {} (validators {}).\n",
                current.chain_id, current.validators_hash
            ));
            if store.home().remove_all()? {
                text.push_str("The ledger data synced for the previous anchor was deleted.\n");
            }
        }
        Plan::New => store.write_anchor(anchor)?,
    }
    text.push_str(&format!(
        "This counter now trusts ledger {}, validator set {}.\n",
        anchor.chain_id, anchor.validators_hash
    ));
    Ok(text)
}

fn apply_national(
    store: &Store,
    anchor: &NationalAnchor,
    plan: Plan<NationalAnchor>,
) -> Result<String> {
    let mut text = String::new();
    match plan {
        Plan::Same => {
            return Ok(format!(
                "This counter already has the national anchor of {} ({} keys). Nothing \
                 changed.\n",
                anchor.federation,
                anchor.keys.len()
            ))
        }
        Plan::Replace(current) => {
            store.write_national_anchor(anchor)?;
            text.push_str(&format!(
                "Replaced the national anchor of {} ({} keys).\n",
                current.federation,
                current.keys.len()
            ));
            let list = store.remove_trust_list()?;
            let mut provinces = 0;
            for chain_id in store.synced_provinces()? {
                store.remove_province(&chain_id)?;
                provinces += 1;
            }
            if list || provinces > 0 {
                text.push_str(&format!(
                    "The national trust list and {provinces} province(s)' synced data taken \
                     under the previous national anchor were deleted.\n"
                ));
            }
        }
        Plan::New => store.write_national_anchor(anchor)?,
    }
    text.push_str(&format!(
        "This counter now takes the national trust lists of {} approved by more than two \
         thirds of its {} national keys.\n",
        anchor.federation,
        anchor.keys.len()
    ));
    Ok(text)
}
