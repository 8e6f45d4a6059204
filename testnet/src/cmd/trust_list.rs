//! `ecert-testnet national-keys` and `ecert-testnet trust-list`: a national body's side
//! of federation, for tests, demos and the README's story.
//!
//! `national-keys` makes the national body's keys, one secret seed per file (64 hex
//! digits, readable by its owner only), and the national anchor file counters are set up
//! with (`ecert-verify init --national-anchor`). `trust-list` makes a version of the
//! national trust list naming each province by its trust anchor file and approves it with
//! the key files given; counters take it with `ecert-verify sync --trust-list`.
//!
//! Keys in plain files are for tests and demos only. A real national body keeps each key
//! offline, with a different keeper, and brings the list body to each keeper to approve.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use ecert_schemas::federation::{
    NationalAnchor, NationalTrustList, ProvinceEntry, TrustListApproval, TrustListBody,
    TRUST_LIST_VERSION,
};
use ecert_schemas::{ChainId, KindId, KindRegistry, UnixTime};
use ecert_shell::files::{read_text_limited, write_atomically, write_new, Existing};
use ecert_verifier::anchor_file::{national_anchor_to_toml, parse_anchor, parse_national_anchor};
use ecert_verifier::checkpoint::is_quorum;
use ecert_verifier::crypto;
use ecert_verifier::federation::approve_trust_list;
use ed25519_dalek::SigningKey;
use rand_core::OsRng;
use zeroize::Zeroizing;

/// The national anchor file `national-keys` writes.
pub const NATIONAL_ANCHOR_FILE: &str = "national-anchor.toml";

/// Longest anchor or key file read.
const MAX_TEXT_BYTES: u64 = 256 * 1024;

/// `national-keys`.
#[derive(Args)]
pub struct NationalKeysArgs {
    /// The folder to write the keys and the national anchor file in (created; existing
    /// files are never replaced)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The federation's name (like a chain id: a-z, 0-9, '-' and '.')
    #[arg(long, value_name = "ID")]
    pub federation: String,
    /// How many national keys (more than two thirds of them must approve a list)
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub count: u16,
}

/// `trust-list`.
#[derive(Args)]
pub struct TrustListArgs {
    /// The national anchor file (from `national-keys`): the federation and its keys
    #[arg(long, value_name = "FILE")]
    pub national_anchor: PathBuf,
    /// A national key's secret seed file (64 hex digits) that approves the list.
    /// Repeatable: more than two thirds of the national keys must approve
    #[arg(long = "key-seed-file", value_name = "FILE", required = true)]
    pub key_seed_files: Vec<PathBuf>,
    /// A province: its name for people, its ledger's trust anchor file, and the kinds its
    /// issuers may issue (default: every built-in kind). Repeatable
    #[arg(
        long = "province",
        value_name = "NAME=ANCHOR_FILE[:KIND,KIND]",
        required = true
    )]
    pub provinces: Vec<String>,
    /// This version's number: counters take only a higher one than they hold
    #[arg(long, value_name = "N")]
    pub seq: u64,
    /// How many days the list counts from now (counters refuse it afterwards)
    #[arg(long, value_name = "DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub valid_days: u64,
    /// Where to write the list (CBOR)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Makes `count` national keys and the national anchor file in `args.out`.
pub fn national_keys(args: &NationalKeysArgs) -> Result<()> {
    let federation = ChainId::new(args.federation.as_str())
        .with_context(|| format!("--federation {:?}", args.federation))?;
    ecert_shell::files::create_private_dir(&args.out)?;
    let anchor_path = args.out.join(NATIONAL_ANCHOR_FILE);
    if anchor_path.exists() {
        bail!(
            "{} exists already: national keys are never replaced; choose another --out",
            anchor_path.display()
        );
    }
    let mut keys = Vec::new();
    for i in 0..args.count {
        let key = SigningKey::generate(&mut OsRng);
        let seed = Zeroizing::new(format!("{}\n", hex::encode(key.to_bytes())));
        let path = key_path(&args.out, i);
        write_new(&path, seed.as_bytes())
            .with_context(|| format!("cannot write the national key {}", path.display()))?;
        keys.push(crypto::public_key(&key));
    }
    let anchor = NationalAnchor { federation, keys };
    let text = national_anchor_to_toml(
        &anchor,
        "The national body's keys: counters take a trust list more than two thirds of them approve.",
    );
    write_new(&anchor_path, text.as_bytes())?;
    ecert_shell::outln!(
        "Made {} national keys for {} in {}:\n  {}  (give this to every counter: \
         ecert-verify init --national-anchor FILE)\n  national-key-0.hex ... national-key-{}.hex  \
         (secret: keep each offline, with its own keeper)",
        args.count,
        anchor.federation,
        args.out.display(),
        anchor_path.display(),
        args.count.saturating_sub(1)
    );
    Ok(())
}

/// The seed file of national key `i`.
fn key_path(dir: &Path, i: u16) -> PathBuf {
    dir.join(format!("national-key-{i}.hex"))
}

/// Makes, approves and writes a version of the national trust list.
pub fn trust_list(args: &TrustListArgs, now: UnixTime) -> Result<()> {
    let anchor = parse_national_anchor(&read_text(&args.national_anchor)?).with_context(|| {
        format!(
            "{} is not a national anchor",
            args.national_anchor.display()
        )
    })?;
    let mut provinces = Vec::new();
    for spec in &args.provinces {
        let spec = ProvinceSpec::parse(spec)?;
        let trust = parse_anchor(&read_text(&spec.anchor_file)?).with_context(|| {
            format!("{} is not a trust anchor file", spec.anchor_file.display())
        })?;
        provinces.push(ProvinceEntry {
            name: spec.name,
            chain_id: trust.chain_id,
            validators_hash: trust.validators_hash,
            kinds: spec.kinds,
        });
    }
    let body = list_body(&anchor, provinces, args.seq, now, args.valid_days)?;
    let mut approvals = Vec::new();
    for path in &args.key_seed_files {
        let key = read_key(path)?;
        let public = crypto::public_key(&key);
        let signer = anchor
            .keys
            .iter()
            .position(|k| *k == public)
            .with_context(|| {
                format!(
                    "the key in {} is not one of the national anchor's keys",
                    path.display()
                )
            })?;
        let signer = u16::try_from(signer).context("too many national keys")?;
        approvals.push(approve_trust_list(&key, signer, &body)?);
    }
    let approvals = sorted_approvals(approvals)?;
    let count = approvals.len();
    let list = NationalTrustList { body, approvals };
    write_atomically(&args.out, &list.to_bytes()?, Existing::Replace)?;
    ecert_shell::outln!(
        "Wrote version {} of the national trust list of {} to {}\n  provinces: {}\n  \
         expires:   {}\n  approved by {count} of {} national keys",
        list.body.seq,
        list.body.federation,
        args.out.display(),
        list.body
            .provinces
            .iter()
            .map(|p| format!("{} ({})", p.name, p.chain_id))
            .collect::<Vec<_>>()
            .join(", "),
        list.body.expires,
        anchor.keys.len()
    );
    if !is_quorum(count, anchor.keys.len()) {
        ecert_shell::outln!(
            "Warning: that is not more than two thirds of the national keys: counters will \
             refuse this list (trust-list-not-approved)."
        );
    }
    Ok(())
}

/// The list body: provinces sorted by chain id, none repeated.
fn list_body(
    anchor: &NationalAnchor,
    mut provinces: Vec<ProvinceEntry>,
    seq: u64,
    now: UnixTime,
    valid_days: u64,
) -> Result<TrustListBody> {
    provinces.sort_by(|a, b| a.chain_id.cmp(&b.chain_id));
    if let Some(pair) = provinces
        .windows(2)
        .find(|pair| pair.first().map(|p| &p.chain_id) == pair.get(1).map(|p| &p.chain_id))
    {
        let chain = pair
            .first()
            .map(|p| p.chain_id.to_string())
            .unwrap_or_default();
        bail!("ledger {chain} is given twice (--province)");
    }
    Ok(TrustListBody {
        version: TRUST_LIST_VERSION,
        federation: anchor.federation.clone(),
        seq,
        issued_at: now,
        expires: now.plus(valid_days.saturating_mul(86_400)),
        provinces,
    })
}

/// Approvals ascending by signer, none repeated.
fn sorted_approvals(mut approvals: Vec<TrustListApproval>) -> Result<Vec<TrustListApproval>> {
    approvals.sort_by_key(|a| a.signer);
    if approvals
        .windows(2)
        .any(|pair| pair.first().map(|a| a.signer) == pair.get(1).map(|a| a.signer))
    {
        bail!("the same national key is given twice (--key-seed-file)");
    }
    Ok(approvals)
}

/// `--province NAME=ANCHOR_FILE[:KIND,KIND]`.
#[derive(Debug, PartialEq, Eq)]
struct ProvinceSpec {
    name: String,
    anchor_file: PathBuf,
    kinds: Vec<KindId>,
}

impl ProvinceSpec {
    /// Reads the flag's value; without kinds, every built-in kind.
    fn parse(text: &str) -> Result<ProvinceSpec> {
        let Some((name, rest)) = text.split_once('=') else {
            bail!("--province {text:?}: expected NAME=ANCHOR_FILE[:KIND,KIND]");
        };
        let name = name.trim();
        if name.is_empty() || rest.is_empty() {
            bail!("--province {text:?}: expected NAME=ANCHOR_FILE[:KIND,KIND]");
        }
        // The kinds follow the last ':' when what follows is a list of kind ids (a path
        // may hold a ':' too).
        let split = rest.rsplit_once(':').and_then(|(file, kinds)| {
            let kinds: Option<Vec<KindId>> = kinds
                .split(',')
                .map(|k| KindId::new(k.trim()).ok())
                .collect();
            kinds
                .filter(|_| !file.is_empty())
                .map(|kinds| (file, kinds))
        });
        let (file, mut kinds) = match split {
            Some((file, kinds)) => (file, kinds),
            None => (
                rest,
                KindRegistry::builtin()?
                    .iter()
                    .map(|k| k.id.clone())
                    .collect(),
            ),
        };
        kinds.sort();
        kinds.dedup();
        Ok(ProvinceSpec {
            name: name.to_owned(),
            anchor_file: PathBuf::from(file),
            kinds,
        })
    }
}

fn read_text(path: &Path) -> Result<String> {
    read_text_limited(path, MAX_TEXT_BYTES)
        .with_context(|| format!("cannot read {}", path.display()))
}

/// A national key from its seed file (64 hex digits).
fn read_key(path: &Path) -> Result<SigningKey> {
    let text = Zeroizing::new(read_text(path)?);
    let bytes = Zeroizing::new(hex::decode(text.trim()).ok().unwrap_or_default());
    let seed: &[u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        anyhow::anyhow!(
            "{} is not a national key's seed file (64 hex digits)",
            path.display()
        )
    })?;
    Ok(SigningKey::from_bytes(seed))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn province_flags() {
        let spec = ProvinceSpec::parse("West=/x/west.toml:id-card,driver-licence").unwrap();
        assert_eq!(spec.name, "West");
        assert_eq!(spec.anchor_file, PathBuf::from("/x/west.toml"));
        let kinds: Vec<&str> = spec.kinds.iter().map(KindId::as_str).collect();
        assert_eq!(kinds, ["driver-licence", "id-card"]);
        let all = ProvinceSpec::parse("East=c:/east.toml").unwrap();
        assert_eq!(all.anchor_file, PathBuf::from("c:/east.toml"));
        assert_eq!(all.kinds.len(), KindRegistry::builtin().unwrap().len());
        assert!(ProvinceSpec::parse("no-file").is_err());
        assert!(ProvinceSpec::parse("=x.toml").is_err());
    }

    #[test]
    fn repeated_provinces_and_keys_are_refused() {
        let anchor = NationalAnchor {
            federation: ChainId::new("n").unwrap(),
            keys: vec![],
        };
        let entry = |chain: &str| ProvinceEntry {
            name: chain.into(),
            chain_id: ChainId::new(chain).unwrap(),
            validators_hash: ecert_schemas::Hash32([0; 32]),
            kinds: vec![],
        };
        let body = list_body(&anchor, vec![entry("b"), entry("a")], 1, UnixTime(10), 1).unwrap();
        assert_eq!(body.provinces[0].chain_id.as_str(), "a");
        assert_eq!(body.expires, UnixTime(10 + 86_400));
        assert!(list_body(&anchor, vec![entry("a"), entry("a")], 1, UnixTime(10), 1).is_err());
        let key = SigningKey::from_bytes(&[1; 32]);
        let approval = approve_trust_list(&key, 0, &body).unwrap();
        assert!(sorted_approvals(vec![approval.clone(), approval]).is_err());
    }
}
