//! Revising a kind: what a new kind file must keep so that every certificate issued under
//! the old one still verifies under the new one (`ReviseKind`, `protocol.md` §12.3).
//!
//! A counter checks a certificate against the one kind file whose hash the ledger lists,
//! whatever the file was when the certificate was issued. Of a certificate it uses:
//!
//! - each disclosed field's number, to find the field, whose type then checks the value
//!   (format 1 and 2);
//! - the derived facts' rules, to check a fact shown with its source (format 1 and 2);
//! - the position of every field and derived fact in the kind and their number, which
//!   are a copy's field tree's leaves and its size (format 2: one leaf per field, in the
//!   kind's order, whether the copy carries the field or not);
//! - the kind's issuers, one of which must have signed it.
//!
//! So a revision keeps every field and derived fact, in the same order, with the same
//! number, key, type, mandatory flag and rule, and adds none (a field more, even an
//! optional one, changes the size of the field tree every format-2 copy already issued was
//! signed over); a text field's `max_len` may grow and an enum field may gain values
//! (values already issued stay valid); no issuer is dropped. Names, labels, description,
//! audience and validity may change, and its `version` grows.

use std::collections::BTreeSet;

use crate::{IssuerId, KindId};

use super::{FieldDef, Kind, DEFAULT_MAX_TEXT};

/// Why a kind file is not a compatible revision of the registered one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RevisionError {
    /// The two files define different kinds.
    #[error("the new file defines kind {new}, the registered one {old}: a revision keeps the id")]
    OtherKind {
        /// The registered kind's id.
        old: KindId,
        /// The new file's.
        new: KindId,
    },
    /// The new file's `version` is not greater than the registered one's.
    #[error("the new file's version {new} is not greater than the registered version {old}")]
    VersionNotIncreased {
        /// The registered version.
        old: u32,
        /// The new file's.
        new: u32,
    },
    /// A field or derived fact of the registered kind is missing from the new file.
    #[error(
        "field {key:?} (number {number}) is gone: certificates already issued carry it; a \
         revision keeps every field and derived fact"
    )]
    FieldRemoved {
        /// The field's key.
        key: String,
        /// Its number.
        number: u16,
    },
    /// The new file has a field or derived fact the registered kind does not.
    #[error(
        "field {key:?} (number {number}) is new: certificates already issued were signed \
         over the registered kind's fields (a one-time copy over a tree of exactly those), \
         so a revision adds no field or derived fact; add a new kind instead"
    )]
    FieldAdded {
        /// The field's key.
        key: String,
        /// Its number.
        number: u16,
    },
    /// A field or derived fact moved to another place in the kind's order.
    #[error(
        "field {key:?} moved from place {old} to place {new}: a one-time copy's field tree \
         has the fields in the kind's order, which a revision keeps"
    )]
    FieldMoved {
        /// The field's key.
        key: String,
        /// Its place (from 0) in the registered kind.
        old: usize,
        /// Its place in the new file.
        new: usize,
    },
    /// A field or derived fact changed in a way certificates already issued may not fit.
    #[error("field {key:?} (number {number}) changed: {change}")]
    FieldChanged {
        /// The field's key in the registered kind.
        key: String,
        /// Its number.
        number: u16,
        /// What changed, in words.
        change: String,
    },
    /// A department that may issue the registered kind may not issue the revised one.
    #[error(
        "{0} is no longer among the issuers: certificates it already issued would no longer \
         verify"
    )]
    IssuerRemoved(IssuerId),
}

impl Kind {
    /// Checks that `new` is a compatible revision of `self` (the kind as registered): the
    /// same id, a greater `version`, every field and derived fact kept at its place with
    /// its number, key, type, mandatory flag and rule, none added; a text field's
    /// `max_len` may grow, an enum field may gain values; no issuer dropped. Names,
    /// labels, description, audience and validity may change. Every certificate issued
    /// under `self` then verifies under `new`.
    pub fn check_revision(&self, new: &Kind) -> Result<(), RevisionError> {
        if new.id != self.id {
            return Err(RevisionError::OtherKind {
                old: self.id.clone(),
                new: new.id.clone(),
            });
        }
        if new.version <= self.version {
            return Err(RevisionError::VersionNotIncreased {
                old: self.version,
                new: new.version,
            });
        }
        let place_in =
            |kind: &Kind, number: u16| kind.fields.iter().position(|f| f.number == number);
        if let Some(gone) = self
            .fields
            .iter()
            .find(|f| place_in(new, f.number).is_none())
        {
            return Err(RevisionError::FieldRemoved {
                key: gone.key.clone(),
                number: gone.number,
            });
        }
        if let Some(added) = new
            .fields
            .iter()
            .find(|f| place_in(self, f.number).is_none())
        {
            return Err(RevisionError::FieldAdded {
                key: added.key.clone(),
                number: added.number,
            });
        }
        // The same numbers, as many: each in its place, unchanged.
        for (place, (old, field)) in self.fields.iter().zip(&new.fields).enumerate() {
            if field.number != old.number {
                return Err(RevisionError::FieldMoved {
                    key: old.key.clone(),
                    old: place,
                    new: place_in(new, old.number).unwrap_or(place),
                });
            }
            check_field(old, field)?;
        }
        let kept: BTreeSet<&IssuerId> = new.issuers.iter().collect();
        if let Some(gone) = self.issuers.iter().find(|i| !kept.contains(i)) {
            return Err(RevisionError::IssuerRemoved(gone.clone()));
        }
        Ok(())
    }
}

/// A field of the registered kind (`old`) against the field with its number in the new
/// file.
fn check_field(old: &FieldDef, new: &FieldDef) -> Result<(), RevisionError> {
    let changed = |change: String| RevisionError::FieldChanged {
        key: old.key.clone(),
        number: old.number,
        change,
    };
    if new.key != old.key {
        return Err(changed(format!(
            "its key is now {:?} (a key never changes)",
            new.key
        )));
    }
    if new.field_type != old.field_type {
        return Err(changed(format!(
            "its type is now {:?}, was {:?}",
            new.field_type, old.field_type
        )));
    }
    if new.mandatory != old.mandatory {
        return Err(changed(if new.mandatory {
            "it is now mandatory: certificates issued without it would not fit".into()
        } else {
            "it is no longer mandatory (derived facts and the fields they come from rely on \
             every certificate carrying it)"
                .into()
        }));
    }
    if new.derived != old.derived {
        return Err(changed(
            "its rule changed: facts already issued were computed with the registered rule".into(),
        ));
    }
    let max_len = |f: &FieldDef| f.max_len.unwrap_or(DEFAULT_MAX_TEXT);
    if max_len(new) < max_len(old) {
        return Err(changed(format!(
            "max_len is now {}, was {}: texts already issued may be longer",
            max_len(new),
            max_len(old)
        )));
    }
    let values = |f: &FieldDef| f.values.clone().unwrap_or_default();
    let new_values = values(new);
    if let Some(gone) = values(old).iter().find(|v| !new_values.contains(v)) {
        return Err(changed(format!(
            "value {gone:?} is gone: certificates already issued may carry it"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KindRegistry;

    /// The built-in no-criminal-record kind file.
    fn record_file() -> String {
        super::super::BUILTIN_KIND_FILES
            .iter()
            .find(|(name, _)| *name == "no-criminal-record.toml")
            .map(|(_, text)| (*text).to_owned())
            .unwrap()
    }

    fn kind(text: &str) -> Kind {
        Kind::from_toml("k.toml", text).unwrap()
    }

    /// The built-in file with `from` replaced by `to` (which must occur).
    fn edited(edits: &[(&str, &str)]) -> Kind {
        let mut text = record_file();
        for (from, to) in edits {
            assert!(text.contains(from), "{from}");
            text = text.replacen(from, to, 1);
        }
        kind(&text)
    }

    fn next_version() -> (String, String) {
        let old = KindRegistry::builtin().unwrap();
        let version = old.get_str("no-criminal-record").unwrap().version;
        (
            format!("version = {version}\n"),
            format!("version = {}\n", version + 1),
        )
    }

    fn revised(edits: &[(&str, &str)]) -> Result<(), RevisionError> {
        let (from, to) = next_version();
        let mut all = vec![(from.as_str(), to.as_str())];
        all.extend_from_slice(edits);
        kind(&record_file()).check_revision(&edited(&all))
    }

    #[test]
    fn names_labels_description_audience_validity_and_issuers_may_change() {
        revised(&[]).unwrap();
        revised(&[
            (
                "name = \"No-criminal-record certificate\"",
                "name = \"Criminal-record check\"",
            ),
            ("label = \"Purpose\"", "label = \"Stated purpose\""),
            ("label_local = \"用途\"", "label_local = \"申请用途\""),
            ("description = \"", "description = \"Revised. "),
            ("max_days = 183", "max_days = 90"),
            (
                "issuers = [\"public-security\", \"justice\"]",
                "issuers = [\"public-security\", \"justice\", \"social-security\"]",
            ),
            ("max_len = 100", "max_len = 200"),
            (
                "values = [\"no-record\", \"record-found\"]",
                "values = [\"no-record\", \"record-found\", \"pending\"]",
            ),
        ])
        .unwrap();
        // An audience comes and goes.
        let open = edited(&[]);
        let mut text = record_file();
        let (from, to) = next_version();
        text = text.replacen(&from, &to, 1);
        let audience = match open.audience {
            Some(_) => {
                let start = text.find("audience = ").unwrap();
                let end = start + text[start..].find('\n').unwrap() + 1;
                format!("{}{}", &text[..start], &text[end..])
            }
            None => text.replacen("\n[validity]", "audience = [\"employer\"]\n\n[validity]", 1),
        };
        open.check_revision(&kind(&audience)).unwrap();
    }

    #[test]
    fn the_id_and_a_greater_version_are_required() {
        let old = kind(&record_file());
        assert!(matches!(
            old.check_revision(&old),
            Err(RevisionError::VersionNotIncreased { .. })
        ));
        let (from, to) = next_version();
        let other = edited(&[
            (&from, &to),
            (
                "id = \"no-criminal-record\"",
                "id = \"no-criminal-record-2\"",
            ),
        ]);
        assert!(matches!(
            old.check_revision(&other),
            Err(RevisionError::OtherKind { .. })
        ));
        let lower = edited(&[(&from, "version = 0\n")]);
        assert!(matches!(
            old.check_revision(&lower),
            Err(RevisionError::VersionNotIncreased { new: 0, .. })
        ));
    }

    #[test]
    fn fields_are_kept_in_place_and_none_is_added() {
        let purpose = "[[fields]]\nnumber = 2\nkey = \"purpose\"\nlabel = \"Purpose\"\n\
                       label_local = \"用途\"\ntype = \"text\"\nmax_len = 100\nmandatory = true\n\n";
        // Removed.
        assert!(matches!(
            revised(&[(purpose, "")]),
            Err(RevisionError::FieldRemoved { number: 2, .. })
        ));
        // Added, even optional.
        let note = "[[fields]]\nnumber = 6\nkey = \"note\"\nlabel = \"Note\"\ntype = \"text\"\n\
                    mandatory = false\n\n# Derived";
        assert!(matches!(
            revised(&[("# Derived", note)]),
            Err(RevisionError::FieldAdded { number: 6, .. })
        ));
        // Moved: purpose after result.
        let after_result = "[[fields]]\nnumber = 4\n";
        assert!(matches!(
            revised(&[
                (purpose, ""),
                (after_result, &format!("{purpose}{after_result}")),
            ]),
            Err(RevisionError::FieldMoved { old: 2, new: 3, .. })
        ));
        // Renamed, retyped, made optional, narrowed, its rule changed.
        for edit in [
            ("key = \"purpose\"", "key = \"reason\""),
            (
                "type = \"date\"\nmandatory = true",
                "type = \"text\"\nmandatory = true",
            ),
            (
                "type = \"date\"\nmandatory = true",
                "type = \"date\"\nmandatory = false",
            ),
            ("max_len = 100", "max_len = 99"),
            (
                "values = [\"no-record\", \"record-found\"]",
                "values = [\"no-record\", \"record-found-x\"]",
            ),
            (
                "field = \"result\", value = \"no-record\"",
                "field = \"result\", value = \"record-found\"",
            ),
        ] {
            let e = revised(&[edit]).unwrap_err();
            assert!(
                matches!(e, RevisionError::FieldChanged { .. }),
                "{edit:?}: {e}"
            );
        }
    }

    #[test]
    fn an_issuer_is_not_dropped() {
        assert_eq!(
            revised(&[(
                "issuers = [\"public-security\", \"justice\"]",
                "issuers = [\"public-security\"]",
            )]),
            Err(RevisionError::IssuerRemoved(
                IssuerId::new("justice").unwrap()
            ))
        );
    }
}
