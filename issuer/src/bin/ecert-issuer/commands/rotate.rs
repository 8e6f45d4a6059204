//! `rotate-key`: a new signing key through a governance transaction approved by the
//! ledger's validators.
//!
//! The proposal file is the CBOR `GovernanceBody` (`[chain_id, seq, [1, RotateIssuerKey]]`)
//! that validators sign; an approval file is one CBOR `Approval` (or a CBOR array of them).

use std::path::{Path, PathBuf};

use anyhow::Result;
use ecert_issuer::home::Home;
use ecert_issuer::node::Wait;
use ecert_issuer::IssuerKey;
use ecert_schemas::codec::{from_cbor, to_cbor};
use ecert_schemas::ledger::{
    Approval, GovernanceAction, GovernanceBody, GovernanceTx, RotateIssuerKey, Transaction,
};
use ecert_schemas::{KeyId, PublicKeyBytes};
use ecert_shell::files::{read_limited, write_atomically, Existing, MAX_READ_BYTES};
use rand_core::OsRng;

use super::{node_client, now, print, SUBMIT_WAIT_MS};
use crate::cli::RotateKeyArgs;
use crate::exit;
use crate::secrets;

fn when(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = ecert_schemas::date::civil_from_unix(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// `rotate-key`.
pub fn run(home: &Home, args: &RotateKeyArgs, net: &ecert_client::Transport) -> Result<()> {
    if args.cancel {
        home.require()?;
        let _lock = home.lock()?;
        let text = if home.cancel_pending_rotation()? {
            "The proposed key rotation was abandoned and its new key deleted; the current key \
             stays in use.\n"
        } else {
            "No key rotation is under way. Nothing changed.\n"
        };
        print(text)?;
        return Ok(());
    }
    match &args.submit {
        None => propose(home, args, net),
        Some(proposal) => submit(home, proposal, &args.approvals, net),
    }
}

fn propose(home: &Home, args: &RotateKeyArgs, net: &ecert_client::Transport) -> Result<()> {
    let config = home.config()?;
    let issuer = config.issuer_id()?;
    let node_url = config.node_url()?.to_owned();
    let anchor = home.require_anchor()?;
    let _lock = home.lock()?;
    // A certified rotation whose time has come is done first: it is no longer "under way".
    if home.promote_due_rotation(now()?.secs())? {
        eprintln!(
            "The new signing key approved by the ledger took over; the old one is kept in {}.",
            home.dir().join("retired-keys").display()
        );
    }
    if let Some(pending) = home.pending_rotation()? {
        let kept = home.pending_proposal_path();
        return Err(exit::home(format!(
            "a key rotation is already under way (new key {}); its proposal is kept in {}: \
             once approved, submit it with 'ecert-issuer rotate-key --submit {} --approvals \
             FILE...', or abandon it with 'ecert-issuer rotate-key --cancel'",
            KeyId::of(&pending.public_key).to_hex(),
            kept.display(),
            kept.display()
        ))
        .into());
    }
    let (current, passphrase) = secrets::unlock_keeping_passphrase(home, issuer.clone())?;
    let registry = node_client(&node_url, net)?.registry()?;
    let now = now()?;
    let valid_from = now.plus(args.start_in.saturating_mul(60));
    let next = IssuerKey::generate(issuer.clone(), &mut OsRng);
    let body = GovernanceBody {
        chain_id: anchor.chain_id.clone(),
        seq: registry.governance_seq,
        action: GovernanceAction::RotateIssuerKey(RotateIssuerKey {
            issuer: issuer.clone(),
            old_key_id: current.key_id(),
            new_key: next.public_key(),
            valid_from,
        }),
    };
    let proposal = body.to_bytes()?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "rotate-key-{issuer}-{}.cbor",
            registry.governance_seq
        ))
    });
    if out.exists() {
        return Err(exit::input(format!(
            "{} already exists; nothing was changed (choose another --out)",
            out.display()
        ))
        .into());
    }
    // The home first: interrupted before the proposal file is written, the rotation is
    // under way and its proposal kept in the home (the message above says where).
    let sealed = secrets::seal_key(&next, &passphrase, secrets::kdf_params(false)?)?;
    home.write_pending_rotation(&sealed, &next.public_key(), &proposal)?;
    write_atomically(&out, &proposal, Existing::Refuse)?;
    print(&format!(
        "Made a new signing key for {issuer}.\n\
         New public key: {}\n\
         New key id:     {}\n\
         Takes over:     {} (if approved and submitted before then)\n\
         Proposal:       {}\n\n\
         Send the proposal to the operators of the ledger's validator nodes. Each approves it \
         with 'ecert-node approve {}' and sends back an approval file. With the \
         approvals of more than two thirds of the validators, run:\n  \
         ecert-issuer rotate-key --submit {} --approvals FILE...\n\
         Until the new key takes over, the current key ({}) keeps signing.\n",
        next.public_key().to_hex(),
        next.key_id().to_hex(),
        when(valid_from.secs()),
        out.display(),
        out.display(),
        out.display(),
        current.key_id().to_hex(),
    ))?;
    Ok(())
}

fn read_approvals(path: &Path) -> Result<Vec<Approval>> {
    let bytes = read_limited(path, MAX_READ_BYTES)
        .map_err(|e| exit::input(format!("cannot read the approval file: {e}")))?;
    if let Ok(one) = from_cbor::<Approval>("approval", &bytes) {
        return Ok(vec![one]);
    }
    from_cbor::<Vec<Approval>>("approvals", &bytes).map_err(|e| {
        exit::input(format!(
            "{} is not an approval file (from 'ecert-node approve'): {e}",
            path.display()
        ))
        .into()
    })
}

fn submit(
    home: &Home,
    proposal_path: &Path,
    approval_paths: &[PathBuf],
    net: &ecert_client::Transport,
) -> Result<()> {
    let config = home.config()?;
    let issuer = config.issuer_id()?;
    let node_url = config.node_url()?.to_owned();
    let _lock = home.lock()?;
    let proposal = read_limited(proposal_path, MAX_READ_BYTES)
        .map_err(|e| exit::input(format!("cannot read the proposal: {e}")))?;
    let Some(pending) = home.pending_rotation()? else {
        // Done already (by an earlier `--submit` that switched keys, and may have been
        // interrupted just after): say so rather than ask for a new rotation.
        let done = from_cbor::<GovernanceBody>("governance proposal", &proposal)
            .ok()
            .and_then(|body| match body.action {
                GovernanceAction::RotateIssuerKey(a) => Some(a.new_key),
                _ => None,
            })
            .filter(|key| home.public_key().ok().as_ref() == Some(key));
        if let Some(key) = done {
            print(&format!(
                "This key rotation is done: the new key {} is this department's signing key.\n",
                KeyId::of(&key).to_hex()
            ))?;
            return Ok(());
        }
        return Err(exit::home(
            "no key rotation is under way: start one with 'ecert-issuer rotate-key'",
        )
        .into());
    };
    if proposal != pending.proposal {
        return Err(exit::input(format!(
            "{} is not the proposal of the rotation under way in this home",
            proposal_path.display()
        ))
        .into());
    }
    let body: GovernanceBody = from_cbor("governance proposal", &proposal)?;
    let GovernanceAction::RotateIssuerKey(action) = &body.action else {
        return Err(exit::input("the proposal is not a key rotation").into());
    };
    if action.issuer != issuer || action.new_key != pending.public_key {
        return Err(exit::input("the proposal is not for this department's new key").into());
    }
    if let Some(at) = pending.takes_over {
        print(&format!(
            "This rotation was already certified; the new key takes over at {}.\n",
            when(at)
        ))?;
        return Ok(());
    }
    let client = node_client(&node_url, net)?;
    // Certified by an earlier `--submit` interrupted before it was recorded here: the
    // ledger already lists the new key, and a second submission would be refused.
    let registered = client.registry()?.issuer(&issuer).and_then(|record| {
        record
            .keys
            .iter()
            .find(|k| k.key == pending.public_key)
            .map(|k| k.valid_from)
    });
    if let Some(valid_from) = registered {
        return finish_certified(home, &action.new_key, valid_from.secs());
    }
    let mut approvals = Vec::new();
    for path in approval_paths {
        approvals.extend(read_approvals(path)?);
    }
    approvals.sort_by_key(|a| a.validator);
    approvals.dedup_by_key(|a| a.validator);
    let tx = Transaction::Governance(GovernanceTx {
        body: body.clone(),
        approvals,
    });
    // Encodes, so that a malformed transaction is caught here rather than by the node.
    to_cbor(&tx)?;
    eprintln!(
        "Sending the key rotation to the ledger ({node_url}); waiting until it is certified..."
    );
    client
        .submit(&tx, Wait::Certified, SUBMIT_WAIT_MS)
        .map_err(|e| anyhow::Error::new(e).context("the key rotation was not recorded"))?;
    finish_certified(home, &action.new_key, action.valid_from.secs())
}

/// Records the certified rotation to `new_key`, taking over at `valid_from`, and switches
/// to it if that time has come.
fn finish_certified(home: &Home, new_key: &PublicKeyBytes, valid_from: u64) -> Result<()> {
    home.mark_rotation_certified(valid_from)?;
    let switched = home.promote_due_rotation(now()?.secs())?;
    let text = if switched {
        format!(
            "The ledger certified the key rotation. The new key {} is now this department's \
             signing key.\n",
            KeyId::of(new_key).to_hex()
        )
    } else {
        format!(
            "The ledger certified the key rotation. The new key {} takes over at {}; until \
             then the current key keeps signing.\n",
            KeyId::of(new_key).to_hex(),
            when(valid_from)
        )
    };
    print(&text)?;
    Ok(())
}
