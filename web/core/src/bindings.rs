//! The `wasm-bindgen` surface: thin wrappers that convert arguments and results and call
//! the plain Rust of the other modules (tested natively). Nothing here decides anything.

use js_sys::{Array, Uint8Array};
use rand_core::OsRng;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use crate::counter::{self, Counter, Revocations};
use crate::request::{self, AskInput, LedgerRegistry};
use crate::views::{ChoiceInput, KdfSettings, KindView, PolicyInput};
use crate::wallet::{self, Wallet};
use crate::{builtin_kinds, scan, unix_time, whole_number, WebError};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Thrown by every call that fails: `code` is stable (see the crate documentation). */
export interface EcertError extends Error {
  code: string;
  /** `receive`: the position (from 0) of the refused package. */
  position?: number;
}
/** Argon2id settings of a wallet file. */
export interface KdfSettings { memoryKib: number; passes: number; lanes: number; }
export type CertificateStatus = "valid" | "expired" | "not-yet-valid";
/**
 * `copiesLeft`, `copies`: for a certificate issued as one-time copies, the copies not shown
 * yet and the copies it was issued with (null for the older format); `copiesLow`: 5 or fewer
 * left, time to ask the department for new copies; `refillDue`: not expired, and running low
 * or of the older format: offer to ask its department for new copies (`refillRequest`).
 */
export interface CertificateSummary {
  index: number; id: string; shortId: string;
  kind: string; kindName: string; kindNameLocal: string | null; kindKnown: boolean;
  issuer: string; issuedAt: number; validFrom: number; expires: number;
  validFromDate: string; expiresDate: string; status: CertificateStatus;
  copiesLeft: number | null; copies: number | null; copiesLow: boolean; refillDue: boolean;
}
/** Text, a list of texts (vehicle classes), or yes/no (a derived fact such as `age_over_18`). */
export type FieldValue = string | string[] | boolean;
export interface FieldView {
  number: number; key: string | null; label: string | null; labelLocal: string | null;
  value: FieldValue | null; text: string | null;
}
export interface CertificateDetails { certificate: CertificateSummary; fields: FieldView[]; }
export interface ReceiveReport {
  added: CertificateSummary[]; alreadyHeld: number[]; replaced: number[]; replacedAt: number[]; notNewer: number[];
  count: number;
}
/** One certificate to present: a kind id or the start of its id, and field keys. */
export interface Choice { certificate: string; fields?: string[]; }
export interface FieldLabel { key: string; label: string; labelLocal: string | null; }
export interface Disclosing { certificate: CertificateSummary; fields: FieldLabel[]; reusedCopy: boolean; }
/**
 * `copiesSpent`: one-time copies this call marked used; `recorded`: this call added an entry
 * to the history (`present`, `answerRequest`; never `renew`). When either, seal and store the
 * wallet before showing the code.
 */
export interface Presentation {
  qr: string; svg: string; qrVersion: number; signedAt: number; nonce: string | null;
  disclosing: Disclosing[]; copiesSpent: number; recorded: boolean;
}
export interface RevocationStatus { certificate: CertificateSummary; revoked: boolean; }
/** One batch of the wallet's certificates; `root` null: their anchor proof is damaged. */
export interface BatchRoot { root: string | null; certificates: string[]; }
export interface AnchoredCertificate {
  certificate: CertificateSummary; anchored: boolean; code: string | null; reason: string | null;
}
export interface AnchorStatus {
  root: string; batchSeq: number; height: number; time: number; date: string;
  certifiedHeight: number; certificates: AnchoredCertificate[];
}
/** `time`: when the state was current (the block's time, or the later time validators vouched for). */
export interface RevocationInfo {
  height: number; time: number; blockTime: number; vouched: number | null; validators: number;
  revokedCount: number;
}
export interface StoreInfo {
  chainId: string; height: number; time: number; blockTime: number; vouched: number | null;
  ageSecs: number; tooOld: boolean; votes: number; validators: number; batches: number;
  revoked: number;
}
/** Validators' freshness statements, checked: the data is current as of `asOf`. */
export interface Freshness { asOf: number; signed: number; validators: number; }
/** Every member optional: defaults 86400, 60, 30, no challenge. */
export interface Policy {
  maxRevocationAgeSecs?: number; holderProofMaxAgeSecs?: number;
  maxClockSkewSecs?: number; expectedNonce?: string;
}
export interface DisclosedField {
  key: string; label: string; labelLocal: string | null; value: FieldValue; text: string;
}
export interface VerifiedCertificate {
  kind: string; kindName: string; kindNameLocal: string | null;
  issuer: string; issuerName: string; id: string | null;
  issuedAt: number; validFrom: number; expires: number;
  issuedDate: string; validFromDate: string; expiresDate: string;
  disclosed: DisclosedField[];
}
export interface VerifyResult {
  valid: boolean; code: string | null; reason: string | null;
  certificates: VerifiedCertificate[]; holder: string | null; signedAt: number | null;
  nonceChecked: boolean | null; checkedAt: number; syncedHeight: number; syncedAt: number;
  revocationAgeSecs: number;
}
export interface OfferLink { server: string; code: string; url: string; redeemUrl: string; }
/** A department's server (`https://HOST[:PORT]`) and where requests for new copies go. */
export interface ServerAddress { server: string; refillUrl: string; }
export interface AnchorInfo { chainId: string; validatorsHash: string; shortHash: string; text: string; }
export interface KindField { number: number; key: string; label: string; labelLocal: string | null; mandatory: boolean; }
/** `audience`: the counter roles the kind is shown to, only in answer to their request (null: any counter). */
export interface Kind {
  id: string; name: string; nameLocal: string | null; description: string;
  issuers: string[]; audience: string[] | null; fields: KindField[];
}
/** The fields of one kind: asked for (`signRequest`) or declined (`answerRequest`). */
export interface Ask { kind: string; fields?: string[]; }
/**
 * What a request asks of one kind. In a wallet's view, also `certificate` (what it shows) or
 * `notShown` (`not-held`, `none-valid`, `audience`, `no-copies-left`), with `roles` (audience)
 * and `reason` (English).
 */
export interface AskView {
  kind: string; kindName: string; kindNameLocal: string | null; fields: FieldLabel[];
  certificate: CertificateSummary | null; notShown: string | null; roles: string[]; reason: string | null;
}
export interface RequestView {
  counter: string; counterLocal: string | null; role: string; department: string;
  departmentName: string; purpose: string; binding: string; asks: AskView[];
}
export interface Registration {
  name: string; nameLocal: string | null; role: string; department: string; departmentName: string;
  counterKey: string; validFrom: number; validUntil: number; validUntilDate: string; mayAsk: AskView[];
}
export interface AskedField { kind: string; kindName: string; kindNameLocal: string | null; field: FieldLabel; }
/** `accepted`: VALID and nothing shown that was not asked for. */
export interface AnswerResult { verdict: VerifyResult; accepted: boolean; missing: AskedField[]; unasked: AskedField[]; }
export interface RegistryInfo { chainId: string; height: number; departments: number; }
/** One certificate of a presentation: what was shown of it (labels of the fields, never values). */
export interface HistoryShown {
  shortId: string; kind: string; kindName: string; kindNameLocal: string | null; issuer: string;
  fields: FieldLabel[];
}
/** `counter`: the registered name of the counter whose request it answered (null: none). */
export interface HistoryEntry { time: number; counter: string | null; challenge: string | null; certificates: HistoryShown[]; }
/** `entries` newest first; `full`: as many as the history keeps, each new one drops the oldest. */
export interface History { entries: HistoryEntry[]; full: boolean; }
"#;

/// A [`WebError`] as a JavaScript `Error` with `name` `EcertError`, a `code` and, for a
/// refused package, its `position`.
fn js_error(error: WebError) -> JsValue {
    let e = js_sys::Error::new(&error.message());
    e.set_name("EcertError");
    let _ = js_sys::Reflect::set(&e, &"code".into(), &error.code().into());
    if let Some(position) = error.position() {
        let _ = js_sys::Reflect::set(&e, &"position".into(), &(position as f64).into());
    }
    e.into()
}

type JsResult<T> = Result<T, JsValue>;

fn to_js<T: Serialize>(value: &T) -> JsResult<JsValue> {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
    value
        .serialize(&serializer)
        .map_err(|e| js_error(WebError::Internal(e.to_string())))
}

/// `undefined` and `null` are `None`.
fn from_js<T: DeserializeOwned>(value: Option<JsValue>, what: &str) -> JsResult<Option<T>> {
    let Some(value) = value.filter(|v| !v.is_undefined() && !v.is_null()) else {
        return Ok(None);
    };
    serde_wasm_bindgen::from_value(value)
        .map(Some)
        .map_err(|e| js_error(WebError::BadArgument(format!("{what}: {e}"))))
}

fn now_of(now: f64) -> JsResult<ecert_schemas::UnixTime> {
    unix_time(now).map_err(js_error)
}

/// An opened wallet. Call `free()` when done: the holder key is wiped.
#[wasm_bindgen(js_name = Wallet)]
pub struct JsWallet(Wallet);

#[wasm_bindgen(js_class = Wallet)]
impl JsWallet {
    /// A new wallet: a fresh holder key from the browser's random source, no
    /// certificates. Seal it with `seal` before storing it.
    pub fn create() -> JsResult<JsWallet> {
        Wallet::create(&mut OsRng).map(JsWallet).map_err(js_error)
    }

    /// Opens a wallet or backup file (`ECW1`, the command-line wallet's format) with its
    /// passphrase. Takes as long as the file's key-derivation settings ask.
    pub fn open(file: &[u8], passphrase: String) -> JsResult<JsWallet> {
        Wallet::open(file, &Zeroizing::new(passphrase))
            .map(JsWallet)
            .map_err(js_error)
    }

    /// The wallet file to store: sealed under `passphrase` (at least 8 characters) with
    /// `kdf` (default `defaultKdf()`), fresh salt and nonce.
    pub fn seal(
        &self,
        passphrase: String,
        #[wasm_bindgen(unchecked_param_type = "KdfSettings")] kdf: Option<JsValue>,
    ) -> JsResult<Vec<u8>> {
        let kdf = from_js::<KdfSettings>(kdf, "kdf")?.unwrap_or_else(wallet::default_kdf);
        self.0
            .seal(&Zeroizing::new(passphrase), kdf, &mut OsRng)
            .map_err(js_error)
    }

    /// The wallet ID (64 hex digits) a department issues certificates to.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.0.id()
    }

    /// Number of certificates.
    #[wasm_bindgen(getter)]
    pub fn count(&self) -> usize {
        self.0.count()
    }

    /// The CBOR request that collects offer `code`: post it to the offer link's
    /// `redeemUrl` (`application/cbor`), then `receive` the package the server answers.
    #[wasm_bindgen(js_name = redeemRequest)]
    pub fn redeem_request(&self, code: &str) -> JsResult<Vec<u8>> {
        self.0.redeem_request(code).map_err(js_error)
    }

    /// Adds certificate packages (an array of `Uint8Array`), all or nothing, with every
    /// check of `ecert-wallet receive`. Seal and store the wallet afterwards.
    #[wasm_bindgen(unchecked_return_type = "ReceiveReport")]
    pub fn receive(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] packages: Array,
        now: f64,
    ) -> JsResult<JsValue> {
        let now = now_of(now)?;
        let mut bytes = Vec::with_capacity(packages.length() as usize);
        for item in packages.iter() {
            let array = item.dyn_into::<Uint8Array>().map_err(|_| {
                js_error(WebError::BadArgument(
                    "packages: an array of Uint8Array expected".into(),
                ))
            })?;
            bytes.push(array.to_vec());
        }
        let slices: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
        to_js(&self.0.receive(&slices, now).map_err(js_error)?)
    }

    /// The CBOR request, signed at `now`, for new one-time copies of the certificate
    /// `selector` names (a kind id or the start of a certificate id): post it to its
    /// department's `refillUrl` (`parseServerAddress`, `application/cbor`). `202`: queued,
    /// ask again later; `200`: pass the package to `receiveRefill`. Throws `expired`,
    /// `no-such-certificate`, ...
    #[wasm_bindgen(js_name = refillRequest)]
    pub fn refill_request(&self, selector: &str, now: f64) -> JsResult<Vec<u8>> {
        self.0
            .refill_request(selector, now_of(now)?)
            .map_err(js_error)
    }

    /// Adds the department's `200` answer to `refillRequest` for the certificate
    /// `selector` names: its new one-time copies replace those held (`replacedAt`). An
    /// answer that is not new copies of that certificate is refused
    /// (`refill-other-certificate`). Seal and store the wallet afterwards.
    #[wasm_bindgen(js_name = receiveRefill, unchecked_return_type = "ReceiveReport")]
    pub fn receive_refill(
        &mut self,
        selector: &str,
        package: &[u8],
        now: f64,
    ) -> JsResult<JsValue> {
        to_js(
            &self
                .0
                .receive_refill(selector, package, now_of(now)?)
                .map_err(js_error)?,
        )
    }

    /// Every certificate with its kind's names, issuer, validity and status at `now`.
    #[wasm_bindgen(unchecked_return_type = "CertificateSummary[]")]
    pub fn list(&self, now: f64) -> JsResult<JsValue> {
        to_js(&self.0.list(now_of(now)?).map_err(js_error)?)
    }

    /// Everything one certificate says, with the labels of its fields. `selector`: a
    /// kind id (`id-card`) or the start of a certificate id.
    #[wasm_bindgen(unchecked_return_type = "CertificateDetails")]
    pub fn describe(&self, selector: &str, now: f64) -> JsResult<JsValue> {
        to_js(&self.0.describe(selector, now_of(now)?).map_err(js_error)?)
    }

    /// A presentation of the chosen fields signed at `now`, as a QR string and SVG. Live
    /// mode: no `nonce`; challenge mode: the counter's challenge in hex. A certificate
    /// issued as one-time copies shows a copy not shown before, marked used in the wallet
    /// now; the presentation is recorded in the history (`recorded`): seal and store the
    /// wallet before showing the code. To
    /// refresh the code for the same counter, call `renew`, not `present` (which would
    /// use another copy). `reuseCopy`: a certificate with no copy left shows its last copy
    /// again (otherwise `no-copies-left`), which lets counters link the presentations.
    #[wasm_bindgen(unchecked_return_type = "Presentation")]
    pub fn present(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Choice[]")] choices: JsValue,
        now: f64,
        nonce: Option<String>,
        #[wasm_bindgen(js_name = reuseCopy)] reuse_copy: Option<bool>,
    ) -> JsResult<JsValue> {
        let choices = from_js::<Vec<ChoiceInput>>(Some(choices), "choices")?.unwrap_or_default();
        let view = self
            .0
            .present(
                &choices,
                now_of(now)?,
                nonce.as_deref(),
                reuse_copy.unwrap_or(false),
            )
            .map_err(js_error)?;
        to_js(&view)
    }

    /// The presentation last made by `present`, signed again at `now` for the same
    /// counter: the same certificates, copies, fields and challenge; nothing is marked
    /// (`copiesSpent` 0). Throws `no-presentation` when there is none, or the certificates
    /// changed since (`receive`).
    #[wasm_bindgen(unchecked_return_type = "Presentation")]
    pub fn renew(&self, now: f64) -> JsResult<JsValue> {
        to_js(&self.0.renew(now_of(now)?).map_err(js_error)?)
    }

    /// Reads a counter's request (`ECQ1:...`) and checks it against the ledger's registry
    /// `registry` (kept from the last status check): who asks, what and why, and for each
    /// kind what this wallet would show or why not. Throws `not-a-request`,
    /// `request-stale`, `request-not-allowed`, `registration-forged`, ... Nothing is shown.
    #[wasm_bindgen(js_name = readRequest, unchecked_return_type = "RequestView")]
    pub fn read_request(
        &mut self,
        text: &str,
        registry: &JsLedgerRegistry,
        now: f64,
    ) -> JsResult<JsValue> {
        to_js(
            &self
                .0
                .read_request(text, &registry.0, now_of(now)?)
                .map_err(js_error)?,
        )
    }

    /// Answers the request read last with exactly the fields asked, less `declined`; the
    /// code carries the request's binding. Recorded in the history with the counter's
    /// name, one-time copies marked used: seal and store the wallet before showing it.
    #[wasm_bindgen(js_name = answerRequest, unchecked_return_type = "Presentation")]
    pub fn answer_request(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Ask[]")] declined: JsValue,
        now: f64,
    ) -> JsResult<JsValue> {
        let declined = from_js::<Vec<AskInput>>(Some(declined), "declined")?.unwrap_or_default();
        to_js(
            &self
                .0
                .answer_request(&declined, now_of(now)?)
                .map_err(js_error)?,
        )
    }

    /// The history of presentations, newest first: when, the counter's name when one
    /// asked, the certificates and the labels of the fields shown (never their values).
    #[wasm_bindgen(unchecked_return_type = "History")]
    pub fn history(&self) -> JsResult<JsValue> {
        to_js(&self.0.history())
    }

    /// Deletes the whole history of presentations (the certificates are not touched);
    /// returns how many entries there were. Seal and store the wallet afterwards.
    #[wasm_bindgen(js_name = clearHistory)]
    pub fn clear_history(&mut self) -> usize {
        self.0.clear_history()
    }

    /// The wallet's distinct batches, each with its root (hex; fetch
    /// `GET /v1/anchors/{root}` for it) and the ids of its certificates.
    #[wasm_bindgen(js_name = batchRoots, unchecked_return_type = "BatchRoot[]")]
    pub fn batch_roots(&self) -> JsResult<JsValue> {
        to_js(&self.0.batch_roots().map_err(js_error)?)
    }

    /// A node's anchor receipt checked against the trust anchor file's text (the
    /// verifier's rule), and which of the wallet's certificates it covers, anchored in
    /// which block. Throws the verifier's code, `bad-anchor`, or `other-batch`.
    #[wasm_bindgen(js_name = anchorStatus, unchecked_return_type = "AnchorStatus")]
    pub fn anchor_status(
        &self,
        receipt: &[u8],
        #[wasm_bindgen(js_name = anchorText)] anchor_text: &str,
        now: f64,
    ) -> JsResult<JsValue> {
        to_js(
            &self
                .0
                .anchor_status(receipt, anchor_text, now_of(now)?)
                .map_err(js_error)?,
        )
    }

    /// Each certificate's revocation status in a verified revocation state.
    #[wasm_bindgen(js_name = revocationStatus, unchecked_return_type = "RevocationStatus[]")]
    pub fn revocation_status(&self, revocations: &JsRevocations, now: f64) -> JsResult<JsValue> {
        to_js(
            &self
                .0
                .revocation_status(&revocations.0, now_of(now)?)
                .map_err(js_error)?,
        )
    }
}

/// A counter's ledger data, checked against its trust anchor.
#[wasm_bindgen(js_name = TrustStore)]
pub struct JsTrustStore(Counter);

#[wasm_bindgen(js_class = TrustStore)]
impl JsTrustStore {
    /// Checks a trust bundle (a node's `GET /v1/export`, or an export file) against the
    /// trust anchor file's text. With `heldHeight` (`info().height` of the data held),
    /// older data is refused (`older-data`) unless `allowOlder`.
    pub fn sync(
        bundle: &[u8],
        #[wasm_bindgen(js_name = anchorText)] anchor_text: &str,
        #[wasm_bindgen(js_name = heldHeight)] held_height: Option<f64>,
        #[wasm_bindgen(js_name = allowOlder)] allow_older: Option<bool>,
    ) -> JsResult<JsTrustStore> {
        let held = held_height
            .map(|h| whole_number(h, "a block height"))
            .transpose()
            .map_err(js_error)?;
        Counter::sync(bundle, anchor_text, held, allow_older.unwrap_or(false))
            .map(JsTrustStore)
            .map_err(js_error)
    }

    /// This data brought up to a node's newer block with only what changed
    /// (`GET /v1/updates?since=HEIGHT`, HEIGHT `info().height`), checked against the trust
    /// anchor file's text as strictly as a full export. Throws the verifier's code; this
    /// data is unchanged.
    pub fn update(
        &self,
        update: &[u8],
        #[wasm_bindgen(js_name = anchorText)] anchor_text: &str,
    ) -> JsResult<JsTrustStore> {
        self.0
            .update(update, anchor_text)
            .map(JsTrustStore)
            .map_err(js_error)
    }

    /// The data as a trust bundle (what a full export of its block gives), to store and
    /// read back with `sync`.
    #[wasm_bindgen(js_name = toBundle)]
    pub fn to_bundle(&self) -> JsResult<Vec<u8>> {
        self.0.to_bundle().map_err(js_error)
    }

    /// The ledger, its certified block, and the data's age at `now`.
    #[wasm_bindgen(unchecked_return_type = "StoreInfo")]
    pub fn info(&self, now: f64) -> JsResult<JsValue> {
        to_js(&self.0.info(now_of(now)?))
    }

    /// Checks validators' freshness statements (a node's `GET /v1/freshness`) about the
    /// synced block and takes the time they vouch for as the data's time when newer.
    /// Throws `freshness-not-confirmed` when too few signed, `trust-data-mismatch` when
    /// they are about another block or do not verify.
    #[wasm_bindgen(js_name = applyFreshness, unchecked_return_type = "Freshness")]
    pub fn apply_freshness(&mut self, bytes: &[u8]) -> JsResult<JsValue> {
        to_js(&self.0.apply_freshness(bytes).map_err(js_error)?)
    }

    /// Checks a counter registration file (`ecert-issuer register-counter`) for the counter
    /// key `counterKey` against this data's registry at `now`. Throws
    /// `not-a-registration`, `registration-other-key`, `registration-forged`, ...
    #[wasm_bindgen(js_name = checkRegistration, unchecked_return_type = "Registration")]
    pub fn check_registration(
        &self,
        registration: &[u8],
        #[wasm_bindgen(js_name = counterKey)] counter_key: &[u8],
        now: f64,
    ) -> JsResult<JsValue> {
        to_js(
            &self
                .0
                .check_registration(registration, counter_key, now_of(now)?)
                .map_err(js_error)?,
        )
    }

    /// Checks a request exactly as a wallet will, against this data's registry.
    #[wasm_bindgen(js_name = checkRequest, unchecked_return_type = "RequestView")]
    pub fn check_request(&self, request: &str, now: f64) -> JsResult<JsValue> {
        to_js(
            &self
                .0
                .check_request(request, now_of(now)?)
                .map_err(js_error)?,
        )
    }

    /// Verifies a QR string as the answer to `request` (this counter's pending request):
    /// the request's binding is the expected nonce, and what it shows is compared with what
    /// was asked (`missing`, `unasked`; `accepted`).
    #[wasm_bindgen(js_name = verifyAnswer, unchecked_return_type = "AnswerResult")]
    pub fn verify_answer(
        &self,
        qr: &str,
        request: &str,
        now: f64,
        #[wasm_bindgen(unchecked_param_type = "Policy")] policy: Option<JsValue>,
    ) -> JsResult<JsValue> {
        let policy = from_js::<PolicyInput>(policy, "policy")?.unwrap_or_default();
        to_js(
            &self
                .0
                .verify_answer(qr, request, now_of(now)?, &policy)
                .map_err(js_error)?,
        )
    }

    /// Verifies a QR string offline at `now` under `policy`. INVALID is a result
    /// (`valid: false`, `code`, `reason`), not an exception.
    #[wasm_bindgen(unchecked_return_type = "VerifyResult")]
    pub fn verify(
        &self,
        qr: &str,
        now: f64,
        #[wasm_bindgen(unchecked_param_type = "Policy")] policy: Option<JsValue>,
    ) -> JsResult<JsValue> {
        let policy = from_js::<PolicyInput>(policy, "policy")?.unwrap_or_default();
        to_js(&self.0.verify(qr, now_of(now)?, &policy).map_err(js_error)?)
    }
}

/// A revocation state verified against the trust anchor.
#[wasm_bindgen(js_name = Revocations)]
pub struct JsRevocations(Revocations);

#[wasm_bindgen(js_class = Revocations)]
impl JsRevocations {
    /// Checks a revocation delta from genesis (`GET /v1/revocations?since=0`) against the
    /// trust anchor file's text.
    #[wasm_bindgen(js_name = fromDelta)]
    pub fn from_delta(
        delta: &[u8],
        #[wasm_bindgen(js_name = anchorText)] anchor_text: &str,
    ) -> JsResult<JsRevocations> {
        Revocations::from_delta(delta, anchor_text, None)
            .map(JsRevocations)
            .map_err(js_error)
    }

    /// This state brought up to date with a delta since its height
    /// (`GET /v1/revocations?since=HEIGHT`).
    pub fn update(
        &self,
        delta: &[u8],
        #[wasm_bindgen(js_name = anchorText)] anchor_text: &str,
    ) -> JsResult<JsRevocations> {
        Revocations::from_delta(delta, anchor_text, Some(&self.0))
            .map(JsRevocations)
            .map_err(js_error)
    }

    /// The state, to store between sessions (not secret); read back with `fromBytes`.
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> JsResult<Vec<u8>> {
        self.0.to_bytes().map_err(js_error)
    }

    /// A state stored with `toBytes`, checked again against the trust anchor file's text
    /// (the certified header's signatures and its revocation root).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(
        bytes: &[u8],
        #[wasm_bindgen(js_name = anchorText)] anchor_text: &str,
    ) -> JsResult<JsRevocations> {
        Revocations::from_bytes(bytes, anchor_text)
            .map(JsRevocations)
            .map_err(js_error)
    }

    /// The certified block it is as of, and how many certificates are revoked.
    #[wasm_bindgen(unchecked_return_type = "RevocationInfo")]
    pub fn info(&self) -> JsResult<JsValue> {
        to_js(&self.0.info())
    }

    /// Checks validators' freshness statements (a node's `GET /v1/freshness`) about this
    /// state's block and takes the time they vouch for as its time when newer (not kept
    /// by `toBytes`: store the statements and apply them again). Throws
    /// `freshness-not-confirmed` or `trust-data-mismatch`, the state unchanged.
    #[wasm_bindgen(js_name = applyFreshness, unchecked_return_type = "Freshness")]
    pub fn apply_freshness(&mut self, bytes: &[u8]) -> JsResult<JsValue> {
        to_js(&self.0.apply_freshness(bytes).map_err(js_error)?)
    }

    /// Whether `issuer` revoked its certificate with status index `index`.
    #[wasm_bindgen(js_name = isRevoked)]
    pub fn is_revoked(&self, issuer: &str, index: u32) -> JsResult<bool> {
        self.0.is_revoked(issuer, index).map_err(js_error)
    }
}

/// The ledger's registry, checked against a certified header: what a wallet checks a
/// counter's request against.
#[wasm_bindgen(js_name = LedgerRegistry)]
pub struct JsLedgerRegistry(LedgerRegistry);

#[wasm_bindgen(js_class = LedgerRegistry)]
impl JsLedgerRegistry {
    /// A node's registry (`GET /v1/registry`) accepted only if it is the one the certified
    /// header of `revocations` commits to. Throws `trust-data-mismatch` or `malformed`.
    pub fn check(bytes: &[u8], revocations: &JsRevocations) -> JsResult<JsLedgerRegistry> {
        LedgerRegistry::check(bytes, revocations.0.header())
            .map(JsLedgerRegistry)
            .map_err(js_error)
    }

    /// Its ledger, certified block and number of departments.
    #[wasm_bindgen(unchecked_return_type = "RegistryInfo")]
    pub fn info(&self) -> JsResult<JsValue> {
        to_js(&self.0.info())
    }
}

/// A new counter key (32 bytes) from the browser's random source: keep it on the device.
#[wasm_bindgen(js_name = counterKeyNew)]
pub fn counter_key_new() -> JsResult<Vec<u8>> {
    request::new_counter_key(&mut OsRng)
        .map(|seed| seed.to_vec())
        .map_err(js_error)
}

/// The public key (64 hex digits) of a counter key, for the department to register.
#[wasm_bindgen(js_name = counterKeyPublic)]
pub fn counter_key_public(
    #[wasm_bindgen(js_name = counterKey)] counter_key: &[u8],
) -> JsResult<String> {
    request::counter_public_key(counter_key).map_err(js_error)
}

/// A request (`ECQ1:...`) signed with `counterKey` under `registration` (the file's
/// bytes): `asks`, `purpose`, a fresh nonce, the time `now`. Not checked: call
/// `TrustStore.checkRequest` before showing it.
#[wasm_bindgen(js_name = signRequest)]
pub fn sign_request(
    registration: &[u8],
    #[wasm_bindgen(js_name = counterKey)] counter_key: &[u8],
    #[wasm_bindgen(unchecked_param_type = "Ask[]")] asks: JsValue,
    purpose: &str,
    now: f64,
) -> JsResult<String> {
    let asks = from_js::<Vec<AskInput>>(Some(asks), "asks")?.unwrap_or_default();
    request::sign_request_text(
        registration,
        counter_key,
        &asks,
        purpose,
        now_of(now)?,
        &mut OsRng,
    )
    .map_err(js_error)
}

/// A fresh challenge for challenge mode (16 hex digits), from the browser's random source.
#[wasm_bindgen]
pub fn challenge() -> JsResult<String> {
    counter::challenge(&mut OsRng).map_err(js_error)
}

/// The text of the one QR code in a camera frame: `rgba` as `getImageData` gives it.
#[wasm_bindgen(js_name = decodeQrFrame)]
pub fn decode_qr_frame(rgba: &[u8], width: u32, height: u32) -> JsResult<String> {
    scan::decode_rgba(rgba, width, height).map_err(js_error)
}

/// A department's offer link (`http(s)://HOST[:PORT]/v1/offers/CODE`), read with the
/// command-line wallet's rules: its server, code and redemption URL. Throws `bad-link`.
#[wasm_bindgen(js_name = parseOfferLink, unchecked_return_type = "OfferLink")]
pub fn parse_offer_link(text: &str) -> JsResult<JsValue> {
    to_js(&wallet::read_offer_link(text).map_err(js_error)?)
}

/// A department's server address as pasted (`https://HOST[:PORT]`, or an offer link of
/// that server), read with the tools' rules: the server to keep for the department, and
/// where to post requests for new copies. Throws `bad-address`.
#[wasm_bindgen(js_name = parseServerAddress, unchecked_return_type = "ServerAddress")]
pub fn parse_server_address(text: &str) -> JsResult<JsValue> {
    to_js(&wallet::read_server_address(text).map_err(js_error)?)
}

/// A trust anchor file's text (pasted, from a file, or scanned from its QR code), read:
/// the ledger, its validator set, and the canonical text to keep. Throws `bad-anchor`.
#[wasm_bindgen(js_name = anchorInfo, unchecked_return_type = "AnchorInfo")]
pub fn anchor_info(text: &str) -> JsResult<JsValue> {
    to_js(&counter::anchor_info(text).map_err(js_error)?)
}

/// Any text (a QR string, a wallet ID) as a QR code in an SVG document.
#[wasm_bindgen(js_name = qrSvg)]
pub fn qr_svg(text: &str) -> JsResult<String> {
    scan::qr_svg(text).map_err(js_error)
}

/// The certificate kinds this software knows, with their names and field labels.
#[wasm_bindgen(unchecked_return_type = "Kind[]")]
pub fn kinds() -> JsResult<JsValue> {
    let kinds = builtin_kinds().map_err(js_error)?;
    to_js(&kinds.iter().map(KindView::from).collect::<Vec<_>>())
}

/// The key-derivation settings `seal` uses by default: the command-line wallet's (64 MiB,
/// 3 passes, 1 lane).
#[wasm_bindgen(js_name = defaultKdf, unchecked_return_type = "KdfSettings")]
pub fn default_kdf() -> JsResult<JsValue> {
    to_js(&wallet::default_kdf())
}

/// Lighter settings for devices short of memory (19 MiB, 2 passes, 1 lane; OWASP's
/// recommendation).
#[wasm_bindgen(js_name = lightKdf, unchecked_return_type = "KdfSettings")]
pub fn light_kdf() -> JsResult<JsValue> {
    to_js(&wallet::light_kdf())
}
