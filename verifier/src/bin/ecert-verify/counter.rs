//! Counters that ask (`docs/protocol.md` §3.3c): the counter's own key
//! (`counter-key.hex` in the store folder: the 32-byte secret seed in hexadecimal, owner
//! only, like the wallet and key files of the other tools), the registration its
//! department signed for it (`registration.cbor`, checked before it is installed), and
//! the request it shows citizens, kept as its pending request (`request.cbor`) until an
//! answer to it is accepted.

use std::path::PathBuf;

use anyhow::{Context, Result};
use ecert_schemas::request::{
    CounterRegistration, FieldsAsked, PresentationRequest, RequestBody, MAX_ASKED_KINDS,
    MAX_REQUEST_BYTES, MAX_TEXT,
};
use ecert_schemas::{KindRegistry, Nonce, UnixTime};
use ecert_shell::files::Existing;
use ecert_shell::files::{create_private_dir, remove_if_present, write_atomically, write_new};
use ecert_shell::permissions::{self, Folder};
use ecert_verifier::crypto;
use ecert_verifier::request::{
    check_registered_fields, check_registration, check_request, sign_request, AnswerCheck,
    RequestPolicy,
};
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use crate::cli::{RegistrationArgs, RequestArgs};
use crate::exit;
use crate::output;
use crate::store::{read_optional, Store};

const KEY_FILE: &str = "counter-key.hex";
const REGISTRATION_FILE: &str = "registration.cbor";
const REQUEST_FILE: &str = "request.cbor";
/// Longest registration file read.
const MAX_REGISTRATION_BYTES: u64 = 16 * 1024;
/// Pixels per QR module in PNG files.
const PNG_MODULE_PX: u32 = 4;

fn key_path(store: &Store) -> PathBuf {
    store.dir().join(KEY_FILE)
}

/// The counter's key, if it has one; refused if other users could read it.
fn read_key(store: &Store) -> Result<Option<SigningKey>> {
    let path = key_path(store);
    let Some(bytes) = read_optional(&path, 1024)? else {
        return Ok(None);
    };
    permissions::check_secret_file(&path, Folder::Chosen)
        .map_err(|e| exit::counter(e.to_string()))?;
    let bytes = Zeroizing::new(bytes);
    let damaged = || exit::counter(format!("the counter key {} is damaged", path.display()));
    let text = std::str::from_utf8(&bytes).map_err(|_| damaged())?.trim();
    let mut seed = Zeroizing::new([0u8; 32]);
    if text.len() != 64 {
        return Err(damaged().into());
    }
    for (i, byte) in seed.iter_mut().enumerate() {
        let digits = text.get(2 * i..2 * i + 2).ok_or_else(damaged)?;
        *byte = u8::from_str_radix(digits, 16).map_err(|_| damaged())?;
    }
    Ok(Some(SigningKey::from_bytes(&seed)))
}

/// The counter's key, which must exist.
fn require_key(store: &Store) -> Result<SigningKey> {
    read_key(store)?.ok_or_else(|| {
        exit::counter(
            "this counter has no key yet: run `ecert-verify counter-key` and give the key to \
             your department",
        )
        .into()
    })
}

/// `counter-key`: makes the counter's key if it has none; prints its public key.
pub fn counter_key(store: &Store) -> Result<String> {
    let (key, made) = match read_key(store)? {
        Some(key) => (key, false),
        None => {
            let mut seed = Zeroizing::new([0u8; 32]);
            OsRng.try_fill_bytes(seed.as_mut_slice()).map_err(|e| {
                exit::counter(format!("the operating system's random source failed: {e}"))
            })?;
            let hex: Zeroizing<String> =
                Zeroizing::new(seed.iter().map(|b| format!("{b:02x}")).collect());
            create_private_dir(store.dir()).map_err(|e| exit::counter(e.to_string()))?;
            write_new(&key_path(store), format!("{}\n", hex.as_str()).as_bytes())
                .map_err(|e| exit::counter(e.to_string()))?;
            (SigningKey::from_bytes(&seed), true)
        }
    };
    let public = crypto::public_key(&key).to_hex();
    output::note(&if made {
        format!(
            "Made this counter's key, kept in {} (readable by you only). Give the public key \
             below to your department, which registers it with `ecert-issuer \
             register-counter`.\n",
            key_path(store).display()
        )
    } else {
        "This counter's public key (give it to your department):\n".to_owned()
    });
    Ok(format!("{public}\n"))
}

/// The installed registration, which must exist.
fn require_registration(store: &Store) -> Result<CounterRegistration> {
    let path = store.dir().join(REGISTRATION_FILE);
    let bytes = read_optional(&path, MAX_REGISTRATION_BYTES)?.ok_or_else(|| {
        exit::counter(
            "this counter is not registered: install the registration your department made \
             with `ecert-verify registration FILE`",
        )
    })?;
    CounterRegistration::from_bytes(&bytes)
        .with_context(|| format!("the stored registration {} is damaged", path.display()))
}

/// `registration FILE`: checks the department's registration and installs it.
pub fn install(store: &Store, args: &RegistrationArgs, now: UnixTime) -> Result<String> {
    let key = require_key(store)?;
    let bytes = crate::store::read_limited(&args.file, MAX_REGISTRATION_BYTES)?;
    let registration = CounterRegistration::from_bytes(&bytes).map_err(|e| {
        exit::refused(format!(
            "{} is not a counter registration ({e}); nothing was installed",
            args.file.display()
        ))
    })?;
    let body = &registration.body;
    if body.counter_key != crypto::public_key(&key) {
        return Err(exit::refused(format!(
            "{} registers another counter's key ({}), not this counter's ({}); nothing was \
             installed",
            args.file.display(),
            body.counter_key.to_hex(),
            crypto::public_key(&key).to_hex()
        ))
        .into());
    }
    let anchor = store.anchor()?;
    let trust = store.load()?;
    let department = check_registration(&registration, trust.registry(), &anchor.chain_id, now)
        .map_err(|e| exit::refused(format!("{e}; nothing was installed")))?;
    check_registered_fields(&body.may_ask, &KindRegistry::builtin()?)
        .map_err(|e| exit::refused(format!("{e}; nothing was installed")))?;
    write_atomically(
        &store.dir().join(REGISTRATION_FILE),
        &registration.to_bytes()?,
        Existing::Replace,
    )
    .map_err(|e| exit::counter(e.to_string()))?;
    remove_if_present(&store.dir().join(REQUEST_FILE)).map_err(|e| exit::counter(e.to_string()))?;
    let mut text = format!(
        "Registered: {}{} ({}), by {department} ({}), valid until {}.\nThis counter may ask \
         for:\n",
        body.name,
        body.name_local
            .as_ref()
            .map(|n| format!(" / {n}"))
            .unwrap_or_default(),
        body.role,
        body.department,
        ecert_schemas::date::date_of_unix(body.valid_until.secs())
    );
    for ask in &body.may_ask {
        text.push_str(&format!("  {}: {}\n", ask.kind, ask.fields.join(", ")));
    }
    Ok(text)
}

/// `request`: signs a request, keeps it as the pending one and shows it.
pub fn request(store: &Store, args: &RequestArgs, now: UnixTime) -> Result<()> {
    let key = require_key(store)?;
    let registration = require_registration(store)?;
    if args.ask.len() > MAX_ASKED_KINDS {
        return Err(exit::counter(format!(
            "a request asks about at most {MAX_ASKED_KINDS} kinds"
        ))
        .into());
    }
    let asks = args
        .ask
        .iter()
        .map(|spec| {
            FieldsAsked::parse(spec).map_err(|e| exit::counter(format!("--ask {spec:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let purpose = args.purpose.trim().to_owned();
    if purpose.is_empty() || purpose.len() > MAX_TEXT {
        return Err(exit::counter(format!("--purpose: 1 to {MAX_TEXT} bytes of text")).into());
    }
    let mut nonce = [0u8; 16];
    OsRng
        .try_fill_bytes(&mut nonce)
        .map_err(|e| exit::counter(format!("the operating system's random source failed: {e}")))?;
    let request = sign_request(
        &key,
        RequestBody {
            registration,
            asks,
            purpose,
            nonce: Nonce::new(nonce.to_vec())?,
            time: now,
        },
    )?;
    // The request is checked exactly as a wallet will check it, against the data this
    // counter synced: a request the wallet would refuse is not shown.
    let anchor = store.anchor()?;
    let trust = store.load()?;
    check_request(
        &request,
        trust.registry(),
        &anchor.chain_id,
        &KindRegistry::builtin()?,
        now,
        &RequestPolicy::default(),
    )
    .map_err(|e| exit::counter(format!("a wallet would refuse this request: {e}")))?;
    write_atomically(
        &store.dir().join(REQUEST_FILE),
        &request.to_bytes()?,
        Existing::Replace,
    )
    .map_err(|e| exit::counter(e.to_string()))?;
    let qr = request.to_qr_string()?;
    if args.text {
        output::print(&format!("{qr}\n"))?;
    }
    if let Some(png) = &args.png {
        let image = ecert_qr::render::to_png(&qr, PNG_MODULE_PX)?;
        write_atomically(png, &image, Existing::Replace)
            .map_err(|e| exit::counter(e.to_string()))?;
        output::note(&format!("Request QR code saved to {}\n", png.display()));
    }
    if !args.text && args.png.is_none() {
        output::print(&format!("{}\n", ecert_qr::render::to_terminal(&qr)?))?;
    }
    output::note(
        "Show this request to the citizen (valid for 10 minutes). Citizen: ecert-wallet \
         present --request 'ECQ1:...'\nThen check their code with: ecert-verify verify \
         --request\n",
    );
    Ok(())
}

/// The pending request (`verify --request`), which must exist.
pub fn pending(store: &Store) -> Result<PresentationRequest> {
    let path = store.dir().join(REQUEST_FILE);
    let bytes = read_optional(&path, MAX_REQUEST_BYTES as u64)?.ok_or_else(|| {
        exit::counter(
            "this counter has no pending request: make one with `ecert-verify request --ask \
             KIND:FIELDS --purpose TEXT`",
        )
    })?;
    PresentationRequest::from_bytes(&bytes)
        .with_context(|| format!("the pending request {} is damaged", path.display()))
}

/// Retires the pending request once an answer to it was accepted: the same answer shown
/// again is then refused.
pub fn retire(store: &Store) -> Result<()> {
    remove_if_present(&store.dir().join(REQUEST_FILE)).map_err(|e| exit::counter(e.to_string()))?;
    Ok(())
}

/// What staff read about an answer compared with the request.
pub fn answer_text(check: &AnswerCheck) -> String {
    let list = |fields: &[(ecert_schemas::KindId, String)]| {
        fields
            .iter()
            .map(|(kind, field)| format!("{kind}:{field}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = String::new();
    if !check.unasked.is_empty() {
        text.push_str(&format!(
            "NOT ACCEPTED: the code shows fields this counter did not ask for: {}. Do not \
             record them; ask the citizen to answer the request with `ecert-wallet present \
             --request`.\n",
            list(&check.unasked)
        ));
    }
    if !check.missing.is_empty() {
        text.push_str(&format!(
            "Not shown (asked for): {}. The citizen declined or does not hold them.\n",
            list(&check.missing)
        ));
    }
    if check.unasked.is_empty() && check.missing.is_empty() {
        text.push_str("The code answers this counter's request with exactly the fields asked.\n");
    }
    text
}
