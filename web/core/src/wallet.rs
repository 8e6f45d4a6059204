//! The citizen's wallet, opened in memory: the same file (`ECW1`), the same checks on
//! receiving, the same presentations as the command-line wallet, through `ecert_wallet`.
//!
//! A certificate issued as one-time copies shows a copy not shown before at each
//! [`Wallet::present`], marked used in the wallet at once: the app seals and stores the
//! wallet before it shows the code (`copiesSpent`, `recorded`). [`Wallet::renew`] signs the
//! same copies again at a later time, for a live code shown to one counter.
//!
//! Every presentation is recorded in the holder's history kept inside the wallet file
//! (`ecert_wallet::history`, the command-line wallet's: when, which certificates and the
//! keys of the fields shown, never their values, and the counter's name when answering its
//! request), in the same state the app seals and stores before it shows the code. A live
//! code is one entry, made by [`Wallet::present`]; its renewals add none.

use ecert_qr::render;
use ecert_schemas::address::{is_valid_offer_code, OfferLink, OfferLinkError, ServerUrl};
use ecert_schemas::api::REFILL_ROUTE;
use ecert_schemas::copy::AnyPresentation;
use ecert_schemas::request::FieldsAsked;
use ecert_schemas::{KindRegistry, Nonce, UnixTime};
use ecert_verifier::request::CheckedRequest;
use ecert_wallet::answer::NotShown;
use ecert_wallet::certs::{self, Entry};
use ecert_wallet::history::{Entry as HistoryEntry, History, MAX_COUNTER_CHARS, MAX_ENTRIES};
use ecert_wallet::offer;
use ecert_wallet::session::{self, Plan, Reuse};
use ecert_wallet::{
    anchoring as lib_anchoring, receive, store, HolderKey, KdfParams, WalletContents,
};
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::anchoring;
use crate::counter::Revocations;
use crate::request::{self, AskInput, LedgerRegistry, RequestView};
use crate::views::{
    AnchorStatus, BatchView, CertificateDetails, CertificateSummary, ChoiceInput, Disclosing,
    FieldLabel, HistoryList, HistoryView, KdfSettings, OfferLinkView, PresentationView,
    ReceiveReport, RevocationStatus, ServerView,
};
use crate::WebError;

/// Fewest characters of a new wallet passphrase (the rules of
/// [`ecert_sealed::passphrase_rule`], the command-line wallet's).
pub const MIN_PASSPHRASE_CHARS: usize = ecert_sealed::passphrase_rule::MIN_CHARS;

/// The key-derivation settings new wallet files are sealed with unless others are given:
/// those of the command-line wallet (Argon2id, 64 MiB, 3 passes, 1 lane).
pub fn default_kdf() -> KdfSettings {
    let d = KdfParams::default();
    KdfSettings {
        memory_kib: d.m_cost_kib(),
        passes: d.t_cost(),
        lanes: d.p_cost(),
    }
}

/// The lighter settings for phones short of memory: OWASP's Argon2id recommendation
/// (19 MiB, 2 passes, 1 lane).
pub fn light_kdf() -> KdfSettings {
    KdfSettings {
        memory_kib: 19 * 1024,
        passes: 2,
        lanes: 1,
    }
}

/// A department's offer link (`http(s)://HOST[:PORT]/v1/offers/CODE` as text or from its
/// QR code, or the offer page's wallet app link carrying one after `#offer=`), read with
/// the tools' rules ([`OfferLink::parse`]).
pub fn read_offer_link(text: &str) -> Result<OfferLinkView, WebError> {
    let link = OfferLink::parse(text)?;
    Ok(OfferLinkView {
        url: link.url(),
        redeem_url: link.redeem_url(),
        server: link.server.base().to_owned(),
        code: link.code,
    })
}

/// A department's server address, as the citizen pastes it: `https://HOST[:PORT]` (read
/// with the tools' rules, [`ServerUrl::parse`]), or an offer link of that server, whose
/// server is taken. With the address where the wallet posts its requests for new copies.
pub fn read_server_address(text: &str) -> Result<ServerView, WebError> {
    let server = match ServerUrl::parse(text) {
        Ok(server) => server,
        Err(e) => OfferLink::parse(text)
            .map(|link| link.server)
            .map_err(|_| e)?,
    };
    Ok(ServerView {
        refill_url: server.join(REFILL_ROUTE),
        server: server.base().to_owned(),
    })
}

/// The presentation being shown: what [`Wallet::renew`] signs again.
#[derive(Debug)]
struct Showing {
    plan: Plan,
    nonce: Option<Nonce>,
}

/// A presentation as a QR string and its drawing.
struct Drawn {
    qr: String,
    svg: String,
    qr_version: i16,
}

impl Drawn {
    fn of(presentation: &AnyPresentation) -> Result<Drawn, WebError> {
        let qr = session::qr_string(presentation)?;
        Ok(Drawn {
            svg: render::to_svg(&qr)?,
            qr_version: render::qr_version(&qr)?,
            qr,
        })
    }
}

/// An open wallet: its key and certificates, decrypted. The key is wiped when dropped.
#[derive(Debug)]
pub struct Wallet {
    contents: WalletContents,
    /// The holder's record of presentations, as the command-line wallet keeps it: each
    /// presentation made here is added, and a wallet or backup opened and saved here
    /// loses none of what it held.
    history: History,
    kinds: KindRegistry,
    /// The last presentation made, until the certificates change.
    showing: Option<Showing>,
    /// The counter's request read last ([`Wallet::read_request`]), until it is answered.
    pending: Option<CheckedRequest>,
}

impl Wallet {
    /// A new wallet: a fresh holder key from `rng`, no certificates.
    pub fn create(rng: &mut impl CryptoRngCore) -> Result<Wallet, WebError> {
        Ok(Wallet {
            contents: WalletContents::new(HolderKey::generate(rng)),
            history: History::new(),
            kinds: crate::builtin_kinds()?,
            showing: None,
            pending: None,
        })
    }

    /// Opens a wallet or backup file (`ECW1`, as the command-line wallet writes it) with
    /// its passphrase, using the key-derivation settings in the file.
    pub fn open(file: &[u8], passphrase: &Zeroizing<String>) -> Result<Wallet, WebError> {
        let (contents, history) = store::open_with_history(file, passphrase)?;
        // Every certificate must be readable, as for the command-line wallet.
        certs::entries(&contents.packages)?;
        Ok(Wallet {
            contents,
            history,
            kinds: crate::builtin_kinds()?,
            showing: None,
            pending: None,
        })
    }

    /// The wallet file: the contents sealed under `passphrase` (which must follow the rules
    /// of [`ecert_sealed::passphrase_rule`]: 8 to 1024 characters, not only white space)
    /// with `kdf`, fresh salt and nonce from `rng`.
    pub fn seal(
        &self,
        passphrase: &Zeroizing<String>,
        kdf: KdfSettings,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Vec<u8>, WebError> {
        ecert_sealed::passphrase_rule::check_new(passphrase).map_err(WebError::WeakPassphrase)?;
        let params = KdfParams::new(kdf.memory_kib, kdf.passes, kdf.lanes)
            .map_err(ecert_wallet::WalletError::from)?;
        Ok(store::seal_with_history(
            &self.contents,
            &self.history,
            passphrase,
            params,
            rng,
        )?)
    }

    /// The wallet ID: the holder's public key, 64 hex digits.
    pub fn id(&self) -> String {
        self.contents.holder.public_key().to_hex()
    }

    /// Number of certificates.
    pub fn count(&self) -> usize {
        self.contents.packages.len()
    }

    /// The request that collects the certificate of a department's one-time offer `code`
    /// (`POST /v1/offers/{code}/redeem`): this wallet's key and its signature over the
    /// code ([`ecert_wallet::offer::redeem_request`]), as CBOR. The package the server
    /// answers with is then added with [`Wallet::receive`], like a file.
    pub fn redeem_request(&self, code: &str) -> Result<Vec<u8>, WebError> {
        if !is_valid_offer_code(code) {
            return Err(OfferLinkError::Code.into());
        }
        offer::redeem_request(&self.contents.holder, code)
            .to_bytes()
            .map_err(|e| WebError::Internal(format!("the offer request: {e}")))
    }

    fn entries(&self) -> Result<Vec<Entry<'_>>, WebError> {
        Ok(certs::entries(&self.contents.packages)?)
    }

    /// Adds certificate packages (`.ecp` files, or what an offer returned), all or
    /// nothing, with every check of the command-line wallet's `receive`; a newer issue of
    /// a certificate of one-time copies replaces the one held.
    pub fn receive(
        &mut self,
        packages: &[&[u8]],
        now: UnixTime,
    ) -> Result<ReceiveReport, WebError> {
        let first_new = self.contents.packages.len();
        let outcome = receive::receive(&mut self.contents, packages)?;
        self.report(first_new, &outcome, now)
    }

    /// This wallet's request, signed at `now`, for new one-time copies of the certificate
    /// `selector` names (a kind id or the start of a certificate id, as for
    /// [`Wallet::describe`]): one of its copies, or the whole certificate of the older
    /// format (answered with copies), and the wallet key's signature
    /// ([`ecert_wallet::offer::refill_request`], `docs/protocol.md` §9b), as CBOR to post
    /// to its department's `POST /v1/refills`. An expired certificate is refused
    /// (`expired`): its department would refuse it too. Nothing in the wallet changes.
    pub fn refill_request(&self, selector: &str, now: UnixTime) -> Result<Vec<u8>, WebError> {
        let entries = self.entries()?;
        let entry = certs::select(&entries, selector, &self.kinds, now)?;
        if entry.expired(now) {
            return Err(WebError::Expired {
                date: crate::views::day(entry.expires()),
            });
        }
        let held = self.contents.packages.get(entry.index).ok_or_else(|| {
            WebError::Internal(format!("certificate {} is not held", entry.index))
        })?;
        offer::refill_request(&self.contents.holder, held, now)?
            .to_bytes()
            .map_err(|e| WebError::Internal(format!("the refill request: {e}")))
    }

    /// Adds the department's answer to [`Wallet::refill_request`] for the certificate
    /// `selector` names: new one-time copies of that certificate (the same id, from the
    /// same department), with every check of [`Wallet::receive`]. They replace the copies
    /// (or the whole certificate) held in its place (`replacedAt`); copies the wallet
    /// holds already are reported in `alreadyHeld`, an older issue in `notNewer`.
    /// Anything else is refused (`refill-other-certificate`) and nothing is added. Seal
    /// and store the wallet afterwards.
    pub fn receive_refill(
        &mut self,
        selector: &str,
        package: &[u8],
        now: UnixTime,
    ) -> Result<ReceiveReport, WebError> {
        let (id, issuer, short_id) = {
            let entries = self.entries()?;
            let entry = certs::select(&entries, selector, &self.kinds, now)?;
            (*entry.id(), entry.issuer().clone(), entry.short_id())
        };
        let received = receive::check_package(package)
            .map_err(|error| receive::Refused { position: 0, error })?;
        let same = matches!(
            &received,
            receive::Received::Copies(copies) if copies.id == id && copies.issuer == issuer
        );
        if !same {
            return Err(WebError::RefillOtherCertificate { asked: short_id });
        }
        let first_new = self.contents.packages.len();
        let outcome = receive::add(&mut self.contents, vec![received])?;
        self.report(first_new, &outcome, now)
    }

    /// What [`receive::add`] did, for the app: the certificates added (from position
    /// `first_new` on) and those replaced in their place, with their summaries at `now`.
    fn report(
        &mut self,
        first_new: usize,
        outcome: &receive::Added,
        now: UnixTime,
    ) -> Result<ReceiveReport, WebError> {
        if !outcome.added.is_empty() || !outcome.replaced.is_empty() {
            // A presentation being shown may name a package just replaced.
            self.showing = None;
        }
        let replaced: Vec<usize> = outcome.replaced.iter().map(|(_, at)| *at).collect();
        let entries = self.entries()?;
        Ok(ReceiveReport {
            added: entries
                .iter()
                .filter(|e| e.index >= first_new || replaced.contains(&e.index))
                .map(|e| CertificateSummary::of(e, &self.kinds, now))
                .collect(),
            already_held: outcome.already_held.clone(),
            replaced: outcome
                .replaced
                .iter()
                .map(|(position, _)| *position)
                .collect(),
            replaced_at: replaced,
            not_newer: outcome.not_newer.clone(),
            count: self.count(),
        })
    }

    /// Every certificate, in the order received, with its status at `now`.
    pub fn list(&self, now: UnixTime) -> Result<Vec<CertificateSummary>, WebError> {
        Ok(self
            .entries()?
            .iter()
            .map(|e| CertificateSummary::of(e, &self.kinds, now))
            .collect())
    }

    /// Everything one certificate says; `selector` is a kind id or the start of a
    /// certificate id.
    pub fn describe(&self, selector: &str, now: UnixTime) -> Result<CertificateDetails, WebError> {
        let entries = self.entries()?;
        let entry = certs::select(&entries, selector, &self.kinds, now)?;
        Ok(CertificateDetails {
            certificate: CertificateSummary::of(entry, &self.kinds, now),
            fields: entry.fields(&self.kinds),
        })
    }

    /// A presentation of the chosen fields, signed at `now`: live mode without `nonce`,
    /// challenge mode with the counter's challenge in hex. A certificate of one-time
    /// copies shows its next unused copy, marked used here at once (`copiesSpent`): seal
    /// and store the wallet before showing the code. One with no copy left is refused
    /// (`no-copies-left`) unless `reuse_copy` (then its last copy is shown again, which
    /// lets the counters that see it link the two presentations). Certificates of both
    /// formats in one code are refused (`mixed-formats`). The presentation is recorded in
    /// the wallet's history (`recorded`), as `ecert-wallet present` records it: seal and
    /// store the wallet before showing the code, whatever the certificates' format. For a
    /// fresh code of the same copies (live mode, one counter), call [`Wallet::renew`],
    /// which records nothing more: a live code is one presentation.
    pub fn present(
        &mut self,
        choices: &[ChoiceInput],
        now: UnixTime,
        nonce: Option<&str>,
        reuse_copy: bool,
    ) -> Result<PresentationView, WebError> {
        let nonce = nonce
            .map(|hex| {
                Nonce::from_hex(hex.trim()).map_err(|_| {
                    WebError::BadArgument(format!(
                        "the challenge {hex:?} is not a counter's challenge code: type it \
                         exactly as shown (hexadecimal, 2 to 64 digits)"
                    ))
                })
            })
            .transpose()?;
        let reuse = if reuse_copy {
            Reuse::LastCopy
        } else {
            Reuse::Never
        };
        let (plan, entry) = {
            let entries = self.entries()?;
            let specs: Vec<(String, Vec<String>)> = choices
                .iter()
                .map(|c| (c.certificate.clone(), c.fields.clone()))
                .collect();
            let chosen = certs::choose(&entries, &specs, &self.kinds, now)?;
            ecert_wallet::answer::check_unrequested(&chosen, &self.kinds)?;
            let plan = session::plan(&chosen, reuse)?;
            let entry = HistoryEntry::of_presentation(&chosen, &self.kinds, now, nonce.as_ref());
            (plan, entry)
        };
        // Signed and drawn before anything is marked or recorded: an unknown or missing
        // field, or a code too large to draw, stops here.
        let presentation = plan.sign(&self.contents, &self.kinds, now, nonce.clone())?;
        let drawn = Drawn::of(&presentation)?;
        self.mark_and_record(&plan, entry)?;
        let spent = plan.spends();
        let showing = Showing { plan, nonce };
        let view = self.view(&showing, drawn, now, spent, true);
        self.showing = Some(showing);
        view
    }

    /// Records `entry` in the history (when it is full, the oldest entries make room, as
    /// in the command-line wallet) and marks the copies `plan` shows used: both or
    /// neither, so that the state the app seals next never holds one without the other.
    fn mark_and_record(&mut self, plan: &Plan, entry: HistoryEntry) -> Result<(), WebError> {
        entry.check().map_err(WebError::NotRecorded)?;
        plan.spend(&mut self.contents)?;
        self.history.record(entry).map_err(WebError::NotRecorded)?;
        Ok(())
    }

    /// Reads a counter's request (`ECQ1:...`, scanned or pasted) and checks it against the
    /// ledger's registry the wallet keeps ([`ecert_verifier::request::check_request`]): who
    /// asks (the counter's registered name, role and department), what and why; and, for
    /// each kind asked, the certificate the wallet would show with exactly the fields
    /// asked, or why it shows none ([`ecert_wallet::answer::answer`]: a kind whose
    /// audience excludes the counter's role, none held, none valid, no copy left). The
    /// request is kept for [`Wallet::answer_request`]. Nothing is shown or marked.
    pub fn read_request(
        &mut self,
        text: &str,
        registry: &LedgerRegistry,
        now: UnixTime,
    ) -> Result<RequestView, WebError> {
        self.pending = None;
        let checked = request::check_request_text(
            text,
            registry.registry(),
            registry.chain_id(),
            &self.kinds,
            now,
        )?;
        let mut view = RequestView::of(&checked, &self.kinds);
        {
            let entries = self.entries()?;
            let answer = ecert_wallet::answer::answer(&checked, &entries, &self.kinds, now);
            for ask in &mut view.asks {
                if let Some(choice) = answer
                    .choices
                    .iter()
                    .find(|c| c.entry.kind_id().as_str() == ask.kind)
                {
                    ask.certificate = Some(CertificateSummary::of(choice.entry, &self.kinds, now));
                }
                if let Some(declined) = answer.declined.iter().find(|d| d.kind.as_str() == ask.kind)
                {
                    ask.not_shown = Some(not_shown_code(&declined.reason));
                    if let NotShown::Audience { roles, .. } = &declined.reason {
                        ask.roles = roles.clone();
                    }
                    ask.reason = Some(declined.reason.to_string());
                }
            }
        }
        self.pending = Some(checked);
        Ok(view)
    }

    /// Answers the request read last ([`Wallet::read_request`]) at `now`, as `ecert-wallet
    /// present --request` does: for each kind asked, the certificate chosen there with
    /// exactly the fields asked, less those `declined` (kind and field keys the citizen
    /// does not want to show); the holder proof carries the request's binding, so the code
    /// answers that request only. The presentation is recorded in the wallet's history with
    /// the counter's name, and one-time copies are marked used: seal and store the wallet
    /// before showing the code. `no-request` without a request read; `nothing-to-show` when
    /// nothing is left to show. The request is answered once.
    pub fn answer_request(
        &mut self,
        declined: &[AskInput],
        now: UnixTime,
    ) -> Result<PresentationView, WebError> {
        let checked = self.pending.clone().ok_or(WebError::NoRequest)?;
        let nonce = checked.binding.clone();
        let (plan, entry) = {
            let entries = self.entries()?;
            let answer = ecert_wallet::answer::answer(&checked, &entries, &self.kinds, now);
            let mut choices = answer.choices;
            for decline in declined {
                let asked = checked
                    .asks
                    .iter()
                    .find(|a: &&FieldsAsked| a.kind.as_str() == decline.kind);
                for field in &decline.fields {
                    if !asked.is_some_and(|a| a.fields.contains(field)) {
                        return Err(WebError::BadArgument(format!(
                            "the counter does not ask for {}:{field}",
                            decline.kind
                        )));
                    }
                    for choice in choices
                        .iter_mut()
                        .filter(|c| c.entry.kind_id().as_str() == decline.kind)
                    {
                        choice.fields.retain(|f| f != field);
                    }
                }
            }
            choices.retain(|c| !c.fields.is_empty());
            if choices.is_empty() {
                return Err(WebError::NothingToShow);
            }
            let plan = session::plan(&choices, Reuse::Never)?;
            let mut entry = HistoryEntry::of_presentation(&choices, &self.kinds, now, Some(&nonce));
            entry.counter = Some(checked.counter.chars().take(MAX_COUNTER_CHARS).collect());
            (plan, entry)
        };
        let presentation = plan.sign(&self.contents, &self.kinds, now, Some(nonce.clone()))?;
        let drawn = Drawn::of(&presentation)?;
        self.mark_and_record(&plan, entry)?;
        let spent = plan.spends();
        let showing = Showing {
            plan,
            nonce: Some(nonce),
        };
        let view = self.view(&showing, drawn, now, spent, true);
        self.showing = Some(showing);
        self.pending = None;
        view
    }

    /// The wallet's history of presentations, newest first: when, to which counter (when
    /// answering a request), which certificates (kind names, short ids) and which fields
    /// (their labels, never their values); and whether it is full.
    pub fn history(&self) -> HistoryList {
        HistoryList {
            entries: self
                .history
                .newest_first()
                .map(|e| HistoryView::of(e, &self.kinds))
                .collect(),
            full: self.history.len() >= MAX_ENTRIES,
        }
    }

    /// Deletes the whole history of presentations, as `ecert-wallet history --clear`
    /// does; returns how many entries there were. The certificates are not touched. Seal
    /// and store the wallet afterwards.
    pub fn clear_history(&mut self) -> usize {
        self.history.clear()
    }

    /// The presentation last made by [`Wallet::present`], signed again at `now`: the same
    /// certificates, copies, fields and challenge, nothing marked (`copiesSpent` 0).
    /// `no-presentation` when there is none (or the certificates changed since).
    pub fn renew(&self, now: UnixTime) -> Result<PresentationView, WebError> {
        let showing = self.showing.as_ref().ok_or(WebError::NoPresentation)?;
        let presentation =
            showing
                .plan
                .sign(&self.contents, &self.kinds, now, showing.nonce.clone())?;
        self.view(showing, Drawn::of(&presentation)?, now, 0, false)
    }

    /// What the app shows of a signed presentation.
    fn view(
        &self,
        showing: &Showing,
        drawn: Drawn,
        now: UnixTime,
        spent: usize,
        recorded: bool,
    ) -> Result<PresentationView, WebError> {
        let entries = self.entries()?;
        let disclosing = showing
            .plan
            .items()
            .iter()
            .filter_map(|item| {
                let entry = entries.get(item.index)?;
                Some(Disclosing {
                    certificate: CertificateSummary::of(entry, &self.kinds, now),
                    fields: entry
                        .kind(&self.kinds)
                        .map(|kind| {
                            kind.fields
                                .iter()
                                .filter(|f| item.fields.contains(&f.key))
                                .map(FieldLabel::from)
                                .collect()
                        })
                        .unwrap_or_default(),
                    reused_copy: item.copy.is_some_and(|c| c.reused),
                })
            })
            .collect();
        Ok(PresentationView {
            svg: drawn.svg,
            qr_version: drawn.qr_version,
            qr: drawn.qr,
            signed_at: now.secs(),
            nonce: showing.nonce.as_ref().map(Nonce::to_hex),
            disclosing,
            copies_spent: spent,
            recorded,
        })
    }

    /// The wallet's distinct batches (one anchor receipt to fetch for each): their roots
    /// in hex and the ids of their certificates ([`anchoring::batches`]).
    pub fn batch_roots(&self) -> Result<Vec<BatchView>, WebError> {
        Ok(anchoring::batches(
            &self.entries()?,
            &self.contents.holder.public_key(),
        ))
    }

    /// An anchor receipt checked against the trust anchor's text, and what it says of this
    /// wallet's certificates ([`anchoring::check_receipt`]).
    pub fn anchor_status(
        &self,
        receipt: &[u8],
        anchor_text: &str,
        now: UnixTime,
    ) -> Result<AnchorStatus, WebError> {
        anchoring::check_receipt(
            &self.entries()?,
            &self.contents.holder.public_key(),
            &self.kinds,
            receipt,
            anchor_text,
            now,
        )
    }

    /// Each certificate's revocation status in a verified revocation state (one-time
    /// copies: revoked when any copy is).
    pub fn revocation_status(
        &self,
        revocations: &Revocations,
        now: UnixTime,
    ) -> Result<Vec<RevocationStatus>, WebError> {
        Ok(self
            .entries()?
            .iter()
            .map(|e| RevocationStatus {
                certificate: CertificateSummary::of(e, &self.kinds, now),
                revoked: lib_anchoring::revoked(e, |issuer, index| {
                    revocations.snapshot().is_revoked(issuer, index)
                }),
            })
            .collect())
    }
}

/// The stable code of a reason not to show a kind asked for.
fn not_shown_code(reason: &NotShown) -> &'static str {
    match reason {
        NotShown::NotHeld => "not-held",
        NotShown::NoneValid => "none-valid",
        NotShown::Audience { .. } => "audience",
        NotShown::NoCopiesLeft => "no-copies-left",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    fn fast() -> KdfSettings {
        KdfSettings {
            memory_kib: 64,
            passes: 1,
            lanes: 1,
        }
    }

    fn pass(text: &str) -> Zeroizing<String> {
        Zeroizing::new(text.to_owned())
    }

    #[test]
    fn a_command_line_wallets_history_survives_being_saved_here() {
        use ecert_wallet::history::{Entry, Shown};
        let w = Wallet::create(&mut OsRng).unwrap();
        let mut history = History::new();
        history
            .record(Entry {
                time: UnixTime(1_790_000_000),
                challenge: None,
                counter: None,
                certificates: vec![Shown {
                    short_id: "ab12cd34".into(),
                    kind: ecert_schemas::KindId::new("id-card").unwrap(),
                    issuer: ecert_schemas::IssuerId::new("public-security").unwrap(),
                    fields: vec!["name".into()],
                }],
            })
            .unwrap();
        let params = KdfParams::new(64, 1, 1).unwrap();
        let file = store::seal_with_history(
            &w.contents,
            &history,
            &pass("correct horse"),
            params,
            &mut OsRng,
        )
        .unwrap();
        let opened = Wallet::open(&file, &pass("correct horse")).unwrap();
        let again = opened
            .seal(&pass("battery staple"), fast(), &mut OsRng)
            .unwrap();
        let (_, kept) = store::open_with_history(&again, &pass("battery staple")).unwrap();
        assert_eq!(kept, history);
    }

    #[test]
    fn create_seal_open() {
        let w = Wallet::create(&mut OsRng).unwrap();
        assert_eq!(w.id().len(), 64);
        assert_eq!(w.count(), 0);
        let file = w.seal(&pass("correct horse"), fast(), &mut OsRng).unwrap();
        assert_eq!(file.get(..4), Some(&b"ECW1"[..]));
        let again = Wallet::open(&file, &pass("correct horse")).unwrap();
        assert_eq!(again.id(), w.id());
        assert!(again.list(UnixTime(0)).unwrap().is_empty());

        let code = |r: Result<Wallet, WebError>| r.map(|_| ()).unwrap_err().code();
        assert_eq!(
            code(Wallet::open(&file, &pass("correct hors"))),
            "wrong-passphrase"
        );
        assert_eq!(
            code(Wallet::open(b"PK\x03\x04", &pass("x"))),
            "not-a-wallet-file"
        );
        assert_eq!(
            code(Wallet::open(&file[..30], &pass("x"))),
            "wallet-damaged"
        );
        let err = w.seal(&pass("short"), fast(), &mut OsRng).unwrap_err();
        assert_eq!(err.code(), "weak-passphrase");
        let absurd = KdfSettings {
            memory_kib: u32::MAX,
            ..fast()
        };
        let err = w
            .seal(&pass("long enough"), absurd, &mut OsRng)
            .unwrap_err();
        assert_eq!(err.code(), "kdf-out-of-bounds");
    }

    #[test]
    fn settings() {
        assert_eq!(
            default_kdf(),
            KdfSettings {
                memory_kib: 65_536,
                passes: 3,
                lanes: 1
            }
        );
        let light = light_kdf();
        assert!(KdfParams::new(light.memory_kib, light.passes, light.lanes).is_ok());
    }

    #[test]
    fn presenting_from_an_empty_wallet_says_why_not() {
        let mut w = Wallet::create(&mut OsRng).unwrap();
        let choice = ChoiceInput {
            certificate: "id-card".into(),
            fields: vec!["name".into()],
        };
        let err = w
            .present(std::slice::from_ref(&choice), UnixTime(1), None, false)
            .unwrap_err();
        assert_eq!(err.code(), "no-such-certificate");
        assert_eq!(
            w.present(&[], UnixTime(1), None, false).unwrap_err().code(),
            "bad-choice"
        );
        let err = w
            .present(&[choice], UnixTime(1), Some("xyz"), false)
            .unwrap_err();
        assert_eq!(err.code(), "bad-argument");
        assert_eq!(w.renew(UnixTime(1)).unwrap_err().code(), "no-presentation");
        let err = w.receive(&[b"not a package"], UnixTime(1)).unwrap_err();
        assert_eq!((err.code(), err.position()), ("not-a-package", Some(0)));
        assert_eq!(w.count(), 0);
    }

    #[test]
    fn offer_links_are_read_by_the_wallet_librarys_rules() {
        let link = read_offer_link(" https://10.0.0.5:8443/v1/offers/K7Q2-99XF\n").unwrap();
        assert_eq!(link.server, "https://10.0.0.5:8443");
        assert_eq!(link.code, "K7Q2-99XF");
        assert_eq!(link.url, "https://10.0.0.5:8443/v1/offers/K7Q2-99XF");
        assert_eq!(
            link.redeem_url,
            "https://10.0.0.5:8443/v1/offers/K7Q2-99XF/redeem"
        );
        let err = read_offer_link("EC1R:NOTALINK").unwrap_err();
        assert_eq!(err.code(), "bad-link");
        assert!(
            err.message().starts_with("not an offer link"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn offer_requests_are_signed_by_the_holder_for_that_code() {
        use ecert_schemas::OfferRedemption;
        use ecert_verifier::offer::verify_offer_redemption;
        let w = Wallet::create(&mut OsRng).unwrap();
        let bytes = w.redeem_request("K7Q2-99XF").unwrap();
        let request = OfferRedemption::from_bytes(&bytes).unwrap();
        let holder = verify_offer_redemption("K7Q2-99XF", &request).unwrap();
        assert_eq!(holder.to_hex(), w.id());
        assert!(verify_offer_redemption("K7Q2-99XG", &request).is_err());
        for bad in ["", "a b", "a/b", &"x".repeat(129)] {
            assert_eq!(w.redeem_request(bad).unwrap_err().code(), "bad-link");
        }
    }

    fn choice(certificate: &str, fields: &[&str]) -> ChoiceInput {
        ChoiceInput {
            certificate: certificate.into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    /// The copies' holder keys a presentation shows.
    fn holders(qr: &str) -> Vec<ecert_schemas::PublicKeyBytes> {
        match AnyPresentation::from_qr_string(qr).unwrap() {
            AnyPresentation::V2(p) => p.decode_items().unwrap().iter().map(|i| i.holder).collect(),
            AnyPresentation::V1(_) => panic!("format 2 expected"),
        }
    }

    #[test]
    fn one_time_copies_are_spent_kept_when_sealed_and_refused_when_none_is_left() {
        use ecert_testkit::{sample, World};
        let mut w = Wallet::create(&mut OsRng).unwrap();
        let me = ecert_schemas::PublicKeyBytes::from_hex(&w.id()).unwrap();
        let mut world = World::builder().build_for(me);
        let now = world.now;
        let card = world.issue_copies_now("public-security", sample::id_card(now), 3);
        // A certificate of the older format, of a kind any counter may see.
        let licence = world.issue_now("transport", sample::driver_licence(now));
        let record = licence.to_bytes().unwrap();
        let report = w
            .receive(&[&card.to_bytes().unwrap(), &record], now)
            .unwrap();
        assert_eq!(report.count, 2);
        assert_eq!(report.added[0].copies_left, Some(3));
        assert_eq!(report.added[0].copies, Some(3));
        assert!(report.added[0].copies_low);
        assert_eq!(report.added[1].copies_left, None);
        let store = world.store();
        let policy = ecert_verifier::Policy::default();

        let first = w
            .present(&[choice("id-card", &["name"])], now, None, false)
            .unwrap();
        assert_eq!(first.copies_spent, 1);
        assert_eq!(first.disclosing[0].certificate.copies_left, Some(2));
        assert!(ecert_verifier::verify_presentation(&first.qr, &store, now, &policy).is_ok());
        // A live refresh: the same copy, nothing spent.
        let again = w.renew(now).unwrap();
        assert_eq!(again.copies_spent, 0);
        assert_eq!(holders(&again.qr), holders(&first.qr));
        // Sealed and opened again, the mark is kept: the next code shows another copy.
        let file = w.seal(&pass("correct horse"), fast(), &mut OsRng).unwrap();
        let mut w = Wallet::open(&file, &pass("correct horse")).unwrap();
        assert_eq!(w.list(now).unwrap()[0].copies_left, Some(2));
        let second = w
            .present(&[choice("id-card", &["name"])], now, None, false)
            .unwrap();
        assert_ne!(holders(&second.qr), holders(&first.qr));
        assert!(ecert_verifier::verify_presentation(&second.qr, &store, now, &policy).is_ok());
        let third = w
            .present(&[choice("id-card", &[])], now, None, false)
            .unwrap();
        assert_eq!(third.disclosing[0].certificate.copies_left, Some(0));
        let err = w
            .present(&[choice("id-card", &["name"])], now, None, false)
            .unwrap_err();
        assert_eq!(err.code(), "no-copies-left");
        assert!(err.message().contains("link"), "{}", err.message());
        let reused = w
            .present(&[choice("id-card", &[])], now, None, true)
            .unwrap();
        assert_eq!(
            (reused.copies_spent, reused.disclosing[0].reused_copy),
            (0, true)
        );
        assert_eq!(holders(&reused.qr), holders(&third.qr));
        // Both formats in one code: refused.
        let err = w
            .present(
                &[choice("id-card", &[]), choice("driver-licence", &[])],
                now,
                None,
                true,
            )
            .unwrap_err();
        assert_eq!(err.code(), "mixed-formats");
        // The older format as ever; revocation of any copy shows.
        let old = w
            .present(&[choice("driver-licence", &["name"])], now, None, false)
            .unwrap();
        assert_eq!(old.copies_spent, 0);
        // A kind with an audience is never shown without a request.
        w.receive(&[&world.record.to_bytes().unwrap()], now)
            .unwrap();
        let err = w
            .present(
                &[choice("no-criminal-record", &["result"])],
                now,
                None,
                false,
            )
            .unwrap_err();
        assert_eq!(err.code(), "audience-only");
        assert!(ecert_verifier::verify_presentation(&old.qr, &store, now, &policy).is_ok());
        // Issued again (the same certificate id) with more copies: it replaces the spent
        // one in its place, and the presentation being shown ends.
        let mut reissued = world.issue_copies_now("public-security", sample::id_card(now), 5);
        reissued.id = card.id;
        let report = w.receive(&[&reissued.to_bytes().unwrap()], now).unwrap();
        assert_eq!((report.replaced, report.count), (vec![0], 3));
        assert_eq!(report.replaced_at, [report.added[0].index]);
        assert_eq!(report.added[0].copies_left, Some(5));
        assert_eq!(w.list(now).unwrap()[0].copies_left, Some(5));
        assert_eq!(w.renew(now).unwrap_err().code(), "no-presentation");
        let report = w.receive(&[&card.to_bytes().unwrap()], now).unwrap();
        assert_eq!(report.not_newer, [0]);
        let next = w
            .present(&[choice("id-card", &["name"])], now, None, false)
            .unwrap();
        let synced = world.store();
        assert!(ecert_verifier::verify_presentation(&next.qr, &synced, now, &policy).is_ok());
    }

    #[test]
    fn presentations_are_recorded_once_with_labels_and_never_values() {
        use ecert_testkit::{sample, World};
        let mut w = Wallet::create(&mut OsRng).unwrap();
        let me = ecert_schemas::PublicKeyBytes::from_hex(&w.id()).unwrap();
        let mut world = World::builder().build_for(me);
        let now = world.now;
        let card = world.issue_copies_now("public-security", sample::id_card(now), 3);
        let licence = world.issue_now("transport", sample::driver_licence(now));
        w.receive(
            &[&card.to_bytes().unwrap(), &licence.to_bytes().unwrap()],
            now,
        )
        .unwrap();
        assert!(w.history().entries.is_empty());

        // Live mode: one entry for the code and none for its renewals.
        let first = w
            .present(
                &[choice("id-card", &["id_number", "name"])],
                now,
                None,
                false,
            )
            .unwrap();
        assert!(first.recorded);
        let renewed = w.renew(UnixTime(now.secs() + 15)).unwrap();
        assert!(!renewed.recorded);
        let history = w.history();
        assert_eq!(history.entries.len(), 1);
        assert!(!history.full);
        let entry = &history.entries[0];
        assert_eq!(
            (
                entry.time,
                entry.counter.as_deref(),
                entry.challenge.as_deref()
            ),
            (now.secs(), None, None)
        );
        let shown = &entry.certificates[0];
        assert_eq!(shown.short_id, first.disclosing[0].certificate.short_id);
        assert_eq!(
            (shown.kind.as_str(), shown.kind_name.as_str()),
            ("id-card", "National ID card")
        );
        assert_eq!(shown.kind_name_local.as_deref(), Some("居民身份证"));
        assert_eq!(shown.issuer, "public-security");
        // In the kind's order, with both labels.
        let labels: Vec<(&str, &str, Option<&str>)> = shown
            .fields
            .iter()
            .map(|f| (f.key.as_str(), f.label.as_str(), f.label_local.as_deref()))
            .collect();
        assert_eq!(
            labels,
            [
                ("name", "Name", Some("姓名")),
                ("id_number", "ID number", Some("公民身份号码"))
            ]
        );
        // Keys and labels, never the values the certificate holds.
        let details = w.describe("id-card", now).unwrap();
        let seen = format!("{history:?}");
        for field in &details.fields {
            if let Some(text) = field.text.as_deref().filter(|t| t.len() > 3) {
                assert!(!seen.contains(text), "{text} in {seen}");
            }
        }

        // A certificate of the older format (no copy spent) and a challenge: recorded too,
        // newest first.
        let older = w
            .present(
                &[choice("driver-licence", &[])],
                now,
                Some("9f3a61c2"),
                false,
            )
            .unwrap();
        assert_eq!((older.copies_spent, older.recorded), (0, true));
        let history = w.history();
        assert_eq!(history.entries.len(), 2);
        assert_eq!(history.entries[0].certificates[0].kind, "driver-licence");
        assert!(history.entries[0].certificates[0].fields.is_empty());
        assert_eq!(history.entries[0].challenge.as_deref(), Some("9F3A61C2"));

        // A refused presentation records nothing.
        assert!(w
            .present(&[choice("id-card", &["shoe_size"])], now, None, false)
            .is_err());
        assert_eq!(w.history().entries.len(), 2);

        // Sealed and opened again, the history and the copies' marks are kept together.
        let file = w.seal(&pass("correct horse"), fast(), &mut OsRng).unwrap();
        let mut w = Wallet::open(&file, &pass("correct horse")).unwrap();
        assert_eq!(w.history(), history);
        assert_eq!(w.list(now).unwrap()[0].copies_left, Some(2));

        // Cleared: the certificates stay; sealed, it stays empty.
        assert_eq!(w.clear_history(), 2);
        assert!(w.history().entries.is_empty());
        assert_eq!(w.count(), 2);
        let file = w.seal(&pass("correct horse"), fast(), &mut OsRng).unwrap();
        let w = Wallet::open(&file, &pass("correct horse")).unwrap();
        assert!(w.history().entries.is_empty());
    }

    #[test]
    fn a_full_history_drops_its_oldest_entry_as_the_command_line_wallet_does() {
        use ecert_testkit::{sample, World};
        use ecert_wallet::history::{Entry, Shown};
        let mut w = Wallet::create(&mut OsRng).unwrap();
        for t in 0..MAX_ENTRIES as u64 {
            w.history
                .record(Entry {
                    time: UnixTime(t),
                    challenge: None,
                    counter: None,
                    certificates: vec![Shown {
                        short_id: "ab12cd34".into(),
                        kind: ecert_schemas::KindId::new("id-card").unwrap(),
                        issuer: ecert_schemas::IssuerId::new("public-security").unwrap(),
                        fields: vec!["name".into()],
                    }],
                })
                .unwrap();
        }
        assert!(w.history().full);
        let me = ecert_schemas::PublicKeyBytes::from_hex(&w.id()).unwrap();
        let mut world = World::builder().build_for(me);
        let now = world.now;
        let card = world.issue_copies_now("public-security", sample::id_card(now), 3);
        w.receive(&[&card.to_bytes().unwrap()], now).unwrap();
        w.present(&[choice("id-card", &["name"])], now, None, false)
            .unwrap();
        let history = w.history();
        assert_eq!(history.entries.len(), MAX_ENTRIES);
        assert_eq!(history.entries[0].time, now.secs());
        assert_eq!(history.entries.last().map(|e| e.time), Some(1));
    }

    #[test]
    fn server_addresses_are_read_by_the_tools_rules() {
        let read = read_server_address(" https://10.0.0.5:8443/ ").unwrap();
        assert_eq!(read.server, "https://10.0.0.5:8443");
        assert_eq!(read.refill_url, "https://10.0.0.5:8443/v1/refills");
        // An offer link of the department gives its server.
        let read = read_server_address("https://10.0.0.5:8443/v1/offers/K7Q2-99XF").unwrap();
        assert_eq!(read.server, "https://10.0.0.5:8443");
        for bad in [
            "",
            "10.0.0.5:8443",
            "ftp://x",
            "https://x/v1/other",
            "https://x:0",
        ] {
            let err = read_server_address(bad).unwrap_err();
            assert_eq!(err.code(), "bad-address", "{bad}");
            assert!(
                err.message().starts_with("not a server address: "),
                "{}",
                err.message()
            );
        }
    }

    #[test]
    fn refills_are_asked_for_certificates_running_low_and_replace_them() {
        use ecert_schemas::refill::RefillRequest;
        use ecert_schemas::KeyId;
        use ecert_testkit::{sample, World};
        use ecert_verifier::refill::check_refill;

        let mut w = Wallet::create(&mut OsRng).unwrap();
        let me = ecert_schemas::PublicKeyBytes::from_hex(&w.id()).unwrap();
        let mut world = World::builder().build_for(me);
        let now = world.now;
        let card = world.issue_copies_now("public-security", sample::id_card(now), 8);
        let licence = world.issue_now("transport", sample::driver_licence(now));
        w.receive(
            &[&card.to_bytes().unwrap(), &licence.to_bytes().unwrap()],
            now,
        )
        .unwrap();
        let list = w.list(now).unwrap();
        // Plenty of copies: not yet; the older format: always (its upgrade).
        assert_eq!((list[0].copies_low, list[0].refill_due), (false, false));
        assert!(list[1].refill_due);
        for _ in 0..3 {
            w.present(&[choice("id-card", &["name"])], now, None, false)
                .unwrap();
        }
        let summary = &w.list(now).unwrap()[0];
        assert_eq!(summary.copies_left, Some(5));
        assert!(summary.copies_low && summary.refill_due);

        // The request carries one copy, signed by this wallet: the department accepts it.
        let police = world.province.department("public-security").unwrap();
        let key = police.issuer_key.public_key();
        let keys = |id: KeyId| {
            (id == KeyId::of(&key))
                .then(|| ecert_verifier::crypto::parse_public_key(&key))
                .flatten()
        };
        let bytes = w.refill_request(&summary.short_id, now).unwrap();
        let request = RefillRequest::from_bytes(&bytes).unwrap();
        let checked = check_refill(&request, &police.id, keys, now).unwrap();
        assert_eq!((checked.id, checked.wallet), (card.id, me));
        // The older format sends the whole certificate.
        let bytes = w.refill_request("driver-licence", now).unwrap();
        assert!(RefillRequest::from_bytes(&bytes).is_ok());
        // Expired: nothing to ask for.
        let later = UnixTime(summary.expires + 1);
        assert_eq!(
            w.refill_request("id-card", later).unwrap_err().code(),
            "expired"
        );
        assert!(!w.list(later).unwrap()[0].refill_due);

        // The answer: new copies of the same certificate replace it in its place.
        // Issued later than the copies held (issued an hour before now), as refills are.
        let at = UnixTime(now.secs() - 60);
        let issued = world
            .province
            .issue_copies(
                "public-security",
                me,
                &[sample::id_card(now)],
                3,
                at,
                &mut OsRng,
            )
            .unwrap();
        let mut refilled = world
            .province
            .anchor_copies("public-security", issued, at, &mut OsRng)
            .unwrap()
            .remove(0);
        refilled.id = card.id;
        let report = w
            .receive_refill(&summary.id, &refilled.to_bytes().unwrap(), now)
            .unwrap();
        assert_eq!((report.replaced_at.as_slice(), report.count), (&[0][..], 2));
        assert_eq!(report.added.len(), 1);
        assert_eq!(
            (report.added[0].copies_left, report.added[0].copies),
            (Some(3), Some(3))
        );
        // The same answer again adds nothing.
        let again = w
            .receive_refill(&summary.id, &refilled.to_bytes().unwrap(), now)
            .unwrap();
        assert_eq!(
            (again.already_held.as_slice(), again.added.len()),
            (&[0][..], 0)
        );
        // Another certificate in answer (or the older format) is refused, nothing added.
        let other = world.issue_copies_now("public-security", sample::id_card(now), 3);
        for bytes in [other.to_bytes().unwrap(), licence.to_bytes().unwrap()] {
            let err = w.receive_refill(&summary.id, &bytes, now).unwrap_err();
            assert_eq!(err.code(), "refill-other-certificate");
        }
        assert_eq!(w.count(), 2);
        let next = w
            .present(&[choice("id-card", &["name"])], now, None, false)
            .unwrap();
        let policy = ecert_verifier::Policy::default();
        let store = world.store();
        assert!(ecert_verifier::verify_presentation(&next.qr, &store, now, &policy).is_ok());
        assert_eq!(next.disclosing[0].certificate.copies_left, Some(2));
    }
}
