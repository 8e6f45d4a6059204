//! One presentation from the wallet's certificates: which certificates, which fields, and
//! for a certificate of one-time copies (format 2) which copy of it is shown.
//!
//! A [`Plan`] is made from the holder's choices ([`plan`]) before anything is shown: it
//! takes the next copy not shown yet of each format-2 certificate, and refuses when a
//! certificate has none left (showing a copy again would let the counters that see it
//! link the two presentations) unless its holder asks for the last copy again knowingly
//! ([`Reuse::LastCopy`]). The caller then marks the copies shown ([`Plan::spend`]) and
//! saves the wallet *before* it shows the code; the plan signs a presentation at any time
//! ([`Plan::sign`]), so a code refreshed every few seconds for one counter (live mode)
//! shows the same copies all along.
//!
//! One QR code holds certificates of one format: a presentation of format 1 proves its
//! certificates share one wallet key, one of format 2 links its copies to each other, and
//! neither can tie a certificate of the other format to them; mixing them is refused
//! ([`WalletError::MixedFormats`]).

use ecert_schemas::copy::AnyPresentation;
use ecert_schemas::{IssuerId, KindId, KindRegistry, Nonce, UnixTime};

use crate::certs::{Choice, Form};
use crate::copies::CopiesLeft;
use crate::store::Held;
use crate::{present, present_copies, CopySelection, Selection, WalletContents, WalletError};

/// Whether a certificate with no copy left may show its last copy again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reuse {
    /// Never: a certificate with no copy left is refused ([`WalletError::NoCopiesLeft`]).
    #[default]
    Never,
    /// The last copy shown is shown again, for certificates with none left: the counters
    /// that see it both times can tell it is the same certificate.
    LastCopy,
}

/// The copy a presentation shows of a format-2 certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlannedCopy {
    /// Its position in the package.
    pub copy: usize,
    /// Whether it was shown before ([`Reuse::LastCopy`]).
    pub reused: bool,
    /// The copies left once this one is shown.
    pub left: CopiesLeft,
}

/// One certificate of a presentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// Its position in the wallet.
    pub index: usize,
    /// Its short id.
    pub short_id: String,
    /// Its kind.
    pub kind: KindId,
    /// Its issuer.
    pub issuer: IssuerId,
    /// The keys of the fields to disclose.
    pub fields: Vec<String>,
    /// Format 2: the copy shown; `None` for format 1.
    pub copy: Option<PlannedCopy>,
}

/// A presentation of chosen certificates, ready to be marked and signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    items: Vec<Planned>,
}

/// Plans a presentation of `choices` ([`crate::certs::choose`]): the next copy not shown
/// of each certificate of one-time copies, or with `reuse` the last one shown when none is
/// left. Refuses certificates of both formats together, and a certificate with no copy
/// left (unless `reuse`).
pub fn plan(choices: &[Choice<'_, '_>], reuse: Reuse) -> Result<Plan, WalletError> {
    let described = |one_time: bool| -> String {
        choices
            .iter()
            .filter(|c| c.entry.copies().is_some() == one_time)
            .map(|c| format!("{} {}", c.entry.kind_id(), c.entry.short_id()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let one_time = choices
        .iter()
        .filter(|c| c.entry.copies().is_some())
        .count();
    if one_time > 0 && one_time < choices.len() {
        return Err(WalletError::MixedFormats {
            one_time: described(true),
            whole: described(false),
        });
    }
    let mut items = Vec::with_capacity(choices.len());
    for choice in choices {
        let entry = choice.entry;
        let copy = match &entry.form {
            Form::Whole { .. } => None,
            Form::Copies(held) => {
                let count = held.count();
                match (held.next_unspent(), held.last_spent(), reuse) {
                    (Some(copy), _, _) => Some(PlannedCopy {
                        copy,
                        reused: false,
                        left: CopiesLeft {
                            left: count.left.saturating_sub(1),
                            total: count.total,
                        },
                    }),
                    (None, Some(copy), Reuse::LastCopy) => Some(PlannedCopy {
                        copy,
                        reused: true,
                        left: count,
                    }),
                    _ => {
                        return Err(WalletError::NoCopiesLeft {
                            kind: entry.kind_id().clone(),
                            issuer: entry.issuer().clone(),
                            short_id: entry.short_id(),
                            copies: count.total,
                        })
                    }
                }
            }
        };
        items.push(Planned {
            index: entry.index,
            short_id: entry.short_id(),
            kind: entry.kind_id().clone(),
            issuer: entry.issuer().clone(),
            fields: choice.fields.clone(),
            copy,
        });
    }
    if items.is_empty() {
        return Err(WalletError::NothingToPresent);
    }
    Ok(Plan { items })
}

impl Plan {
    /// The certificates, in the order chosen.
    pub fn items(&self) -> &[Planned] {
        &self.items
    }

    /// Whether it shows one-time copies (format 2).
    pub fn one_time(&self) -> bool {
        self.items.iter().any(|i| i.copy.is_some())
    }

    /// How many copies it shows for the first time (to mark, and save, before showing).
    pub fn spends(&self) -> usize {
        self.items
            .iter()
            .filter(|i| i.copy.is_some_and(|c| !c.reused))
            .count()
    }

    /// The format-2 certificates left with few copies once it is shown
    /// ([`CopiesLeft::low`]): their holder should ask for new copies.
    pub fn running_low(&self) -> impl Iterator<Item = (&Planned, CopiesLeft)> {
        self.items
            .iter()
            .filter_map(|i| i.copy.map(|c| (i, c.left)))
            .filter(|(_, left)| left.low())
    }

    /// Marks its copies shown in `contents`. Done, and the wallet saved, before the code
    /// is shown; doing it twice changes nothing.
    pub fn spend(&self, contents: &mut WalletContents) -> Result<(), WalletError> {
        for item in &self.items {
            let Some(copy) = item.copy else { continue };
            match contents.packages.get_mut(item.index) {
                Some(Held::Copies(held)) => held.spend(copy.copy)?,
                _ => return Err(WalletError::PlanOutdated),
            }
        }
        Ok(())
    }

    /// Signs the presentation at `time`, answering `nonce` if given: the same copies at
    /// every call.
    pub fn sign(
        &self,
        contents: &WalletContents,
        kinds: &KindRegistry,
        time: UnixTime,
        nonce: Option<Nonce>,
    ) -> Result<AnyPresentation, WalletError> {
        let held = |index: usize| {
            contents
                .packages
                .get(index)
                .ok_or(WalletError::PlanOutdated)
        };
        if self.one_time() {
            let mut selections = Vec::with_capacity(self.items.len());
            for item in &self.items {
                let (Held::Copies(copies), Some(copy)) = (held(item.index)?, item.copy) else {
                    return Err(WalletError::PlanOutdated);
                };
                selections.push(CopySelection {
                    package: copies.package(),
                    copy: copy.copy,
                    fields: item.fields.clone(),
                });
            }
            present_copies(&contents.holder, kinds, &selections, time, nonce)
                .map(AnyPresentation::V2)
        } else {
            let mut selections = Vec::with_capacity(self.items.len());
            for item in &self.items {
                let Held::Whole(package) = held(item.index)? else {
                    return Err(WalletError::PlanOutdated);
                };
                selections.push(Selection {
                    package,
                    fields: item.fields.clone(),
                });
            }
            present(&contents.holder, kinds, &selections, time, nonce).map(AnyPresentation::V1)
        }
    }
}

/// The QR string of a presentation of either format.
pub fn qr_string(presentation: &AnyPresentation) -> Result<String, WalletError> {
    Ok(match presentation {
        AnyPresentation::V1(p) => p.to_qr_string()?,
        AnyPresentation::V2(p) => p.to_qr_string()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::{choose, entries};
    use crate::copies::tests::package as copy_package;
    use crate::HolderKey;
    use ecert_verifier::copy_key::copy_public_key;
    use rand_core::OsRng;

    const NOW: UnixTime = UnixTime(150);

    /// A wallet with a format-1 ID card and a no-criminal-record... of format 1, and an
    /// ID card of 7 one-time copies.
    fn wallet() -> WalletContents {
        let holder = HolderKey::generate(&mut OsRng);
        let me = holder.public_key();
        let whole = crate::certs::tests::package(
            &holder,
            "no-criminal-record",
            [0x12; 16],
            100,
            1000,
            &[(0, "李娜")],
        );
        let copies = copy_package(&me, [0xcd; 16], 100, 1000, &[(0, "李娜")], 7);
        let mut w = WalletContents::new(holder);
        w.packages = vec![whole.into(), copies.into()];
        w
    }

    fn spec(selector: &str, fields: &[&str]) -> (String, Vec<String>) {
        (
            selector.to_owned(),
            fields.iter().map(|f| f.to_string()).collect(),
        )
    }

    fn plan_of(
        w: &WalletContents,
        specs: &[(String, Vec<String>)],
        reuse: Reuse,
    ) -> Result<Plan, WalletError> {
        let kinds = KindRegistry::builtin().unwrap();
        let all = entries(&w.packages).unwrap();
        let chosen = choose(&all, specs, &kinds, NOW).unwrap();
        plan(&chosen, reuse)
    }

    #[test]
    fn each_presentation_spends_the_next_copy_and_the_last_is_refused() {
        let kinds = KindRegistry::builtin().unwrap();
        let mut w = wallet();
        let me = w.holder.public_key();
        let mut keys = Vec::new();
        for n in 0..7 {
            let plan = plan_of(&w, &[spec("id-card", &["name"])], Reuse::Never).unwrap();
            let item = &plan.items()[0];
            let copy = item.copy.unwrap();
            assert_eq!((copy.copy, copy.reused, copy.left.left), (n, false, 6 - n));
            assert_eq!(plan.spends(), 1);
            assert_eq!(plan.running_low().count(), usize::from(6 - n <= 5));
            let signed = plan.sign(&w, &kinds, NOW, None).unwrap();
            plan.spend(&mut w).unwrap();
            // Twice changes nothing.
            plan.spend(&mut w).unwrap();
            let AnyPresentation::V2(p) = signed else {
                panic!("format 2 expected")
            };
            let holder = p.decode_items().unwrap()[0].holder;
            let secret = w.packages[1].copies().unwrap().package().copies[n].secret;
            assert_eq!(Some(holder), copy_public_key(&me, &secret));
            keys.push(holder);
            // The same plan signs the same copy again (a live code).
            let AnyPresentation::V2(again) = plan.sign(&w, &kinds, UnixTime(160), None).unwrap()
            else {
                panic!("format 2 expected")
            };
            assert_eq!(again.decode_items().unwrap()[0].holder, holder);
        }
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 7, "seven different copies");
        let err = plan_of(&w, &[spec("id-card", &["name"])], Reuse::Never).unwrap_err();
        assert!(
            matches!(err, WalletError::NoCopiesLeft { copies: 7, .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("link"), "{text}");
        assert!(text.contains("public-security"), "{text}");
        // Knowingly, the last copy again; it spends nothing.
        let plan = plan_of(&w, &[spec("cdcd", &[])], Reuse::LastCopy).unwrap();
        let copy = plan.items()[0].copy.unwrap();
        assert_eq!((copy.copy, copy.reused, copy.left.left), (6, true, 0));
        assert_eq!(plan.spends(), 0);
        assert!(plan.sign(&w, &kinds, NOW, None).is_ok());
        // A format-1 certificate is shown as ever.
        let plan = plan_of(&w, &[spec("no-criminal-record", &["name"])], Reuse::Never).unwrap();
        assert!(!plan.one_time());
        assert!(matches!(
            plan.sign(&w, &kinds, NOW, None).unwrap(),
            AnyPresentation::V1(_)
        ));
    }

    #[test]
    fn both_formats_in_one_code_are_refused_and_a_changed_wallet_is_noticed() {
        let kinds = KindRegistry::builtin().unwrap();
        let mut w = wallet();
        let err = plan_of(
            &w,
            &[spec("id-card", &["name"]), spec("no-criminal-record", &[])],
            Reuse::Never,
        )
        .unwrap_err();
        assert_eq!(
            err,
            WalletError::MixedFormats {
                one_time: "id-card cdcdcdcd".into(),
                whole: "no-criminal-record 12121212".into(),
            }
        );
        assert!(err.to_string().contains("two QR codes"), "{err}");
        let plan = plan_of(&w, &[spec("id-card", &["name"])], Reuse::Never).unwrap();
        w.packages.swap(0, 1);
        assert_eq!(plan.spend(&mut w), Err(WalletError::PlanOutdated));
        assert_eq!(
            plan.sign(&w, &kinds, NOW, None).unwrap_err(),
            WalletError::PlanOutdated
        );
    }
}
