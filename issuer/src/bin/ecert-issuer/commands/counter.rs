//! `register-counter`: the department's signed statement about one of its counters (its
//! key, name, role, what it may ask for and until when), for the counter to install with
//! `ecert-verify registration FILE` (`docs/protocol.md` §3.3c).

use anyhow::{Context, Result};
use ecert_issuer::home::Home;
use ecert_schemas::request::{CounterRegistrationBody, FieldsAsked, MAX_ASKED_KINDS, MAX_TEXT};
use ecert_schemas::{KindRegistry, PublicKeyBytes, UnixTime};
use ecert_shell::files::{write_atomically, Existing};
use ecert_verifier::crypto;
use ecert_verifier::request::check_registered_fields;

use super::{date, now, print};
use crate::cli::RegisterCounterArgs;
use crate::exit;
use crate::secrets;

/// Seconds in a day.
const DAY_SECS: u64 = 86_400;

/// `register-counter`.
pub fn run(home: &Home, args: &RegisterCounterArgs) -> Result<()> {
    let counter_key = PublicKeyBytes::from_hex(args.counter_key.trim())
        .ok()
        .filter(|k| crypto::parse_public_key(k).is_some())
        .ok_or_else(|| {
            exit::input(
                "--counter-key: give the 64 hexadecimal digits printed by the counter's \
                 'ecert-verify counter-key'",
            )
        })?;
    let text = |flag: &str, value: &str| -> Result<String> {
        let value = value.trim();
        if value.is_empty() || value.len() > MAX_TEXT {
            return Err(exit::input(format!("{flag}: 1 to {MAX_TEXT} bytes of text")).into());
        }
        Ok(value.to_owned())
    };
    let name = text("--name", &args.name)?;
    let name_local = args
        .name_local
        .as_deref()
        .map(|n| text("--name-local", n))
        .transpose()?;
    let role = text("--role", &args.role)?;
    if !role
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(exit::input(format!(
            "--role {role:?}: one word in lowercase letters, digits and '-' (office, \
             employer, hotel, ...)"
        ))
        .into());
    }
    let may_ask = parse_asks(&args.may_ask)?;
    let config = home.config()?;
    let issuer = config.issuer_id()?;
    let anchor = home.require_anchor()?;
    let key = secrets::unlock(home, issuer.clone())?;
    let valid_from = now()?;
    let valid_until = UnixTime(
        valid_from
            .secs()
            .saturating_add(args.days.saturating_mul(DAY_SECS)),
    );
    let body = CounterRegistrationBody {
        chain_id: anchor.chain_id.clone(),
        department: issuer.clone(),
        key_id: key.key_id(),
        counter_key,
        name,
        name_local,
        role,
        may_ask,
        valid_from,
        valid_until,
    };
    let registration = key
        .sign_counter_registration(body)
        .context("cannot sign the registration")?;
    write_atomically(&args.out, &registration.to_bytes()?, Existing::Replace)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let body = &registration.body;
    let mut out = format!(
        "Registered counter {:?}{} ({}) of {issuer} on ledger {}, valid {} to {}.\n\
         Counter key: {}\nIt may ask for:\n",
        body.name,
        body.name_local
            .as_ref()
            .map(|n| format!(" / {n:?}"))
            .unwrap_or_default(),
        body.role,
        body.chain_id,
        date(body.valid_from.secs()),
        date(body.valid_until.secs()),
        body.counter_key.to_hex()
    );
    for ask in &body.may_ask {
        out.push_str(&format!("  {}: {}\n", ask.kind, ask.fields.join(", ")));
    }
    out.push_str(&format!(
        "Written to {}: give it to the counter, which installs it with 'ecert-verify \
         registration FILE'.\n",
        args.out.display()
    ));
    print(&out)
}

/// Every `--may-ask KIND:FIELD,FIELD`, checked against the kinds.
fn parse_asks(specs: &[String]) -> Result<Vec<FieldsAsked>> {
    if specs.len() > MAX_ASKED_KINDS {
        return Err(exit::input(format!(
            "a counter may be registered for at most {MAX_ASKED_KINDS} kinds"
        ))
        .into());
    }
    let asks = specs
        .iter()
        .map(|spec| {
            FieldsAsked::parse(spec).map_err(|e| exit::input(format!("--may-ask {spec:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_registered_fields(&asks, &KindRegistry::builtin()?).map_err(|e| {
        exit::input(format!(
            "--may-ask: {e} (see the fields of each kind in docs/user-guide.md)"
        ))
    })?;
    Ok(asks)
}
