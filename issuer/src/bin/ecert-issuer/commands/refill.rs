//! `refill`: the wallets' queued requests for new copies, checked again and issued in one
//! job per kind by the issuance workflow ([`ecert_issuer::refill`]).

use anyhow::Result;
use ecert_issuer::claims_input::check_entitled;
use ecert_issuer::home::Home;
use ecert_issuer::issuance::job::{Input, Job, JOB_VERSION};
use ecert_issuer::issuance::{self, IssuanceError};
use ecert_issuer::refill::{remove_requests, write_queue, RefillPlan};
use ecert_schemas::KindRegistry;
use ecert_shell::files::create_private_dir;

use super::issue::{context, explain, Shell};
use super::{node_client, now, print};
use crate::cli::RefillArgs;
use crate::secrets;

/// `refill`.
pub fn run(home: &Home, args: &RefillArgs, net: &ecert_client::Transport) -> Result<()> {
    let config = home.config()?;
    let issuer = config.issuer_id()?;
    let node_url = config.node_url()?.to_owned();
    let anchor = home.require_anchor()?;
    let kinds = KindRegistry::builtin()?;
    let _lock = home.lock()?;
    if issuance::is_pending(home)? {
        return Err(IssuanceError::Pending.into());
    }
    let now = now()?;
    let plan = RefillPlan::of(home, &issuer, now)?;
    let mut text = String::new();
    for dropped in &plan.dropped {
        text.push_str(&format!(
            "Not issued: {} ({}); the request is deleted.\n",
            dropped
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            dropped.reason
        ));
    }
    remove_requests(plan.dropped.iter().map(|d| d.path.as_path()))?;
    let (due, waiting): (Vec<_>, Vec<_>) = plan
        .jobs
        .iter()
        .partition(|(_, requests)| requests.len() as u64 >= args.min_requests);
    for (kind, requests) in &waiting {
        text.push_str(&format!(
            "{} request(s) for new {kind} copies wait until at least {} are queued (so that \
             the new copies share their batch with others).\n",
            requests.len(),
            args.min_requests
        ));
    }
    if due.is_empty() {
        if plan.jobs.is_empty() {
            text.push_str("No wallet has asked for new copies.\n");
        }
        print(&text)?;
        return Ok(());
    }
    print(&text)?;
    let ready = home.refills_ready_dir();
    create_private_dir(&home.refills_dir())?;
    create_private_dir(&ready)?;
    let key = secrets::unlock(home, issuer.clone())?;
    let ledger = node_client(&node_url, net)?;
    let cwd = std::env::current_dir()?;
    for (kind_id, requests) in due {
        let kind = kinds.get(kind_id)?;
        check_entitled(kind, &issuer)?;
        let (queue, sha256) = write_queue(home, kind_id, requests)?;
        let expires = requests
            .iter()
            .filter_map(|(_, r)| ecert_verifier::refill::refill_terms(r).ok())
            .map(|terms| terms.expires.secs())
            .max()
            .unwrap_or(now.secs());
        let job = Job {
            version: JOB_VERSION,
            kind: kind_id.clone(),
            input: Input::Refills {
                path: queue.clone(),
                sha256,
            },
            cwd: cwd.clone(),
            issued_at: now.secs(),
            valid_from: now.secs(),
            expires,
            out: None,
            out_dir: Some(ready.clone()),
            offer_url: None,
            total: requests.len() as u64,
            signed: 0,
            batch_size: args.batch_size,
            copies: args.copies,
        };
        let shell = Shell::new(&node_url, &job, false);
        let ctx = context(home, &key, &kinds, &anchor, &ledger, &shell);
        let outcome =
            issuance::start(&ctx, kind, job.clone()).map_err(|e| explain(e, &job, home))?;
        shell.finish(outcome)?;
        remove_requests(requests.iter().map(|(path, _)| path.as_path()))?;
        remove_requests([queue.as_path()])?;
        print(&format!(
            "New copies of {} {kind_id} certificate(s) wait in {} for their wallets to ask \
             again.\n",
            requests.len(),
            ready.display()
        ))?;
    }
    Ok(())
}
