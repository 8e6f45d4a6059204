//! The holder's history: a record, kept by the wallet for its holder, of every
//! presentation it made — when, which certificates (kind, issuer, short id), which fields,
//! and whether it answered a counter's challenge.
//!
//! Only the field **keys** are recorded, never their values: the history says where the
//! holder's data went without becoming a second copy of that data, so a history that
//! leaks (a backup opened by someone else, a screen read over a shoulder) tells that the
//! name and ID number went to a counter on that day, not what they are.
//!
//! The history is kept inside the wallet file, encrypted with the rest of it
//! ([`crate::store`], since contents version 2), and is bounded: at most [`MAX_ENTRIES`]
//! entries and [`MAX_BYTES`] bytes encoded; when a new entry would pass either bound, the
//! oldest entries are dropped.
//!
//! Pure: time is passed in.
//!
//! # Format
//!
//! ```text
//! history = [ * entry ]                  ; in the order they were made, oldest first
//! entry   = [ time    : unix-time,       ; when the presentation was made (the wallet's clock)
//!             challenge : nonce / null,  ; the counter's challenge it answered, if any
//!             counter : tstr / null,     ; the name of the counter that asked (1 to 128
//!                                        ; characters), when answering its request
//!             certificates : [ 1*8 shown ] ]
//! shown   = [ short_id : tstr,           ; 8 lowercase hex digits: the start of the certificate id
//!             kind     : kind-id,
//!             issuer   : issuer-id,
//!             fields   : [ * tstr ] ]    ; the keys of the fields disclosed (0 to 64, each
//!                                        ; 1 to 64 characters), values never
//! ```
//!
//! `counter` is there for counters that will ask for fields by name: such a request can
//! fill it in without a change of format, and software reading this version already
//! accepts a name there.

use ecert_schemas::codec::to_cbor;
use ecert_schemas::presentation::MAX_ITEMS;
use ecert_schemas::{IssuerId, KindId, KindRegistry, Nonce, SchemaError, UnixTime};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::certs::{self, Choice, SHORT_ID_LEN};

/// Most entries kept: a new entry beyond this drops the oldest.
pub const MAX_ENTRIES: usize = 10_000;
/// Most bytes the encoded history may take in the wallet (2 MiB): a new entry beyond this
/// drops the oldest. (A typical entry takes about 80 bytes, so [`MAX_ENTRIES`] is the
/// bound met in practice.)
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// Longest name of a counter, in characters.
pub const MAX_COUNTER_CHARS: usize = 128;
/// Longest field key recorded, in characters.
pub const MAX_KEY_CHARS: usize = 64;
/// Most field keys recorded for one certificate.
pub const MAX_FIELDS: usize = 64;

/// One certificate shown in a presentation, as the history keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    /// The certificate's short id ([`certs::Entry::short_id`]), as the wallet shows it
    /// everywhere.
    pub short_id: String,
    /// Its kind.
    pub kind: KindId,
    /// The department that issued it.
    pub issuer: IssuerId,
    /// The keys of the fields disclosed (possibly none: then the counter learned only
    /// the kind, issuer and validity).
    pub fields: Vec<String>,
}

/// One presentation the wallet made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// When it was made, by the wallet's clock.
    pub time: UnixTime,
    /// The counter's challenge it answered (challenge mode), if any.
    pub challenge: Option<Nonce>,
    /// The name of the counter that asked for these fields (`present --request`).
    pub counter: Option<String>,
    /// The certificates shown, in the order of the presentation (1 to 8).
    pub certificates: Vec<Shown>,
}

/// A field key with its labels, for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldName {
    /// The key, as `present --show` takes it.
    pub key: String,
    /// Its label in English, if the kind is known and has the field.
    pub label: Option<String>,
    /// Its label in the local language, likewise.
    pub label_local: Option<String>,
}

impl FieldName {
    /// "Name (姓名)", "Name", or the key when there is no label.
    pub fn text(&self) -> String {
        match (&self.label, &self.label_local) {
            (Some(label), Some(local)) => format!("{label} ({local})"),
            (Some(label), None) => label.clone(),
            _ => self.key.clone(),
        }
    }
}

impl Shown {
    /// What the history keeps of `choice`: its certificate's short id, kind and issuer,
    /// and the keys chosen, each once, in the kind's order (keys the kind does not list
    /// after them, in the order given).
    pub fn of(choice: &Choice<'_, '_>, kinds: &KindRegistry) -> Shown {
        let entry = choice.entry;
        let mut fields: Vec<String> = Vec::with_capacity(choice.fields.len());
        if let Ok(kind) = kinds.get(entry.kind_id()) {
            fields.extend(
                kind.fields
                    .iter()
                    .filter(|f| choice.fields.contains(&f.key))
                    .map(|f| f.key.clone()),
            );
        }
        for key in &choice.fields {
            if !fields.contains(key) {
                fields.push(key.clone());
            }
        }
        Shown {
            short_id: entry.short_id(),
            kind: entry.kind_id().clone(),
            issuer: entry.issuer().clone(),
            fields,
        }
    }

    /// The kind's name for people ([`certs::kind_name`]).
    pub fn kind_name(&self, kinds: &KindRegistry) -> String {
        certs::kind_name(&self.kind, kinds)
    }

    /// The fields disclosed, with their labels as the kind gives them.
    pub fn field_names(&self, kinds: &KindRegistry) -> Vec<FieldName> {
        let kind = kinds.get(&self.kind).ok();
        self.fields
            .iter()
            .map(|key| {
                let def = kind.and_then(|k| k.field_by_key(key));
                FieldName {
                    key: key.clone(),
                    label: def.map(|f| f.label.clone()),
                    label_local: def.and_then(|f| f.label_local.clone()),
                }
            })
            .collect()
    }

    fn check(&self) -> Result<(), String> {
        let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if self.short_id.chars().count() != SHORT_ID_LEN || !self.short_id.chars().all(hex) {
            return Err(format!(
                "a short id is {SHORT_ID_LEN} lowercase hex digits, not {:?}",
                self.short_id
            ));
        }
        if self.fields.len() > MAX_FIELDS {
            return Err(format!(
                "{} fields for one certificate, at most {MAX_FIELDS}",
                self.fields.len()
            ));
        }
        for key in &self.fields {
            let chars = key.chars().count();
            if chars == 0 || chars > MAX_KEY_CHARS {
                return Err(format!(
                    "a field key is 1 to {MAX_KEY_CHARS} characters, not {chars}"
                ));
            }
        }
        Ok(())
    }
}

impl Entry {
    /// The entry for a presentation of `choices` made at `time`, answering `challenge`
    /// if one was given.
    pub fn of_presentation(
        choices: &[Choice<'_, '_>],
        kinds: &KindRegistry,
        time: UnixTime,
        challenge: Option<&Nonce>,
    ) -> Entry {
        Entry {
            time,
            challenge: challenge.cloned(),
            counter: None,
            certificates: choices.iter().map(|c| Shown::of(c, kinds)).collect(),
        }
    }

    /// Whether the entry can be kept: 1 to 8 certificates, each with a well-formed short
    /// id and field keys, and a counter name of 1 to [`MAX_COUNTER_CHARS`] characters.
    pub fn check(&self) -> Result<(), SchemaError> {
        let malformed = |detail: String| SchemaError::Malformed {
            what: "history entry",
            detail,
        };
        if self.certificates.is_empty() || self.certificates.len() > MAX_ITEMS {
            return Err(malformed(format!(
                "{} certificates, 1 to {MAX_ITEMS} expected",
                self.certificates.len()
            )));
        }
        if let Some(counter) = &self.counter {
            let chars = counter.chars().count();
            if chars == 0 || chars > MAX_COUNTER_CHARS {
                return Err(malformed(format!(
                    "a counter's name is 1 to {MAX_COUNTER_CHARS} characters, not {chars}"
                )));
            }
        }
        for shown in &self.certificates {
            shown.check().map_err(malformed)?;
        }
        Ok(())
    }

    /// Its size in the wallet, encoded.
    fn encoded_len(&self) -> usize {
        to_cbor(self).map_or(usize::MAX, |bytes| bytes.len())
    }
}

/// The history: every presentation recorded, oldest first, within [`MAX_ENTRIES`] and
/// [`MAX_BYTES`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    entries: Vec<Entry>,
    /// The entries' encoded sizes added up (the array's head left out).
    bytes: usize,
}

impl History {
    /// An empty history.
    pub fn new() -> History {
        History::default()
    }

    /// The entries read from a wallet, as they were written (each already checked).
    pub(crate) fn from_entries(entries: Vec<Entry>) -> History {
        let bytes = entries
            .iter()
            .map(Entry::encoded_len)
            .fold(0, usize::saturating_add);
        History { entries, bytes }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in the order they were recorded, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entries newest first (the order they were recorded in, reversed, whatever the
    /// clock said then).
    pub fn newest_first(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().rev()
    }

    /// Adds `entry` as the newest, then drops the oldest entries while there are more
    /// than [`MAX_ENTRIES`] or they take more than [`MAX_BYTES`]; returns how many were
    /// dropped. An entry that [`Entry::check`] refuses is not added.
    pub fn record(&mut self, entry: Entry) -> Result<usize, SchemaError> {
        entry.check()?;
        self.bytes = self.bytes.saturating_add(entry.encoded_len());
        self.entries.push(entry);
        // The array's head takes at most 5 bytes; the rest is the entries themselves. The
        // entry just recorded is always kept.
        let mut dropped = 0;
        for oldest in &self.entries {
            let over = self.entries.len() - dropped > MAX_ENTRIES
                || self.bytes.saturating_add(5) > MAX_BYTES;
            if !over || dropped + 1 >= self.entries.len() {
                break;
            }
            self.bytes = self.bytes.saturating_sub(oldest.encoded_len());
            dropped += 1;
        }
        self.entries.drain(..dropped);
        Ok(dropped)
    }

    /// Deletes every entry; returns how many there were.
    pub fn clear(&mut self) -> usize {
        let n = self.entries.len();
        *self = History::new();
        n
    }
}

impl Serialize for Shown {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.short_id, &self.kind, &self.issuer, &self.fields).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Shown {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (short_id, kind, issuer, fields) = Deserialize::deserialize(d)?;
        Ok(Shown {
            short_id,
            kind,
            issuer,
            fields,
        })
    }
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (
            &self.time,
            &self.challenge,
            &self.counter,
            &self.certificates,
        )
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (time, challenge, counter, certificates) = Deserialize::deserialize(d)?;
        let entry = Entry {
            time,
            challenge,
            counter,
            certificates,
        };
        entry.check().map_err(D::Error::custom)?;
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::tests::package;
    use crate::certs::{choose, entries};
    use crate::HolderKey;
    use ecert_schemas::codec::from_cbor_bounded;
    use rand_core::OsRng;

    fn kinds() -> KindRegistry {
        KindRegistry::builtin().unwrap()
    }

    fn shown(short_id: &str, fields: &[&str]) -> Shown {
        Shown {
            short_id: short_id.into(),
            kind: KindId::new("id-card").unwrap(),
            issuer: IssuerId::new("public-security").unwrap(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    fn entry(time: u64, fields: &[&str]) -> Entry {
        Entry {
            time: UnixTime(time),
            challenge: None,
            counter: None,
            certificates: vec![shown("abababab", fields)],
        }
    }

    fn round_trip(entry: &Entry) -> Result<Entry, SchemaError> {
        from_cbor_bounded("history entry", &to_cbor(entry).unwrap(), MAX_BYTES)
    }

    #[test]
    fn an_entry_from_a_presentation_keeps_keys_not_values() {
        let holder = HolderKey::generate(&mut OsRng);
        let packages = vec![
            package(
                &holder,
                "id-card",
                [0xab; 16],
                100,
                1000,
                &[(0, "张伟"), (5, "110108199003070016")],
            ),
            package(
                &holder,
                "no-criminal-record",
                [0x12; 16],
                100,
                1000,
                &[(0, "李娜")],
            ),
        ];
        let packages: Vec<crate::store::Held> = packages.into_iter().map(Into::into).collect();
        let all = entries(&packages).unwrap();
        let kinds = kinds();
        let spec = |s: &str, f: &[&str]| (s.to_owned(), f.iter().map(|x| x.to_string()).collect());
        // Keys given out of the kind's order and twice; an empty choice.
        let choices = choose(
            &all,
            &[
                spec("id-card", &["id_number", "name", "id_number"]),
                spec("1212", &[]),
            ],
            &kinds,
            UnixTime(150),
        )
        .unwrap();
        let nonce = Nonce::from_hex("9f3a61c2").unwrap();
        let e = Entry::of_presentation(&choices, &kinds, UnixTime(150), Some(&nonce));
        assert_eq!(e.time, UnixTime(150));
        assert_eq!(e.challenge, Some(nonce));
        assert_eq!(e.counter, None);
        assert_eq!(e.certificates[0], shown("abababab", &["name", "id_number"]));
        assert_eq!(e.certificates[1].short_id, "12121212");
        assert_eq!(e.certificates[1].kind.as_str(), "no-criminal-record");
        assert!(e.certificates[1].fields.is_empty());
        let bytes = to_cbor(&e).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("张伟") && !text.contains("110108199003070016"));
        assert_eq!(round_trip(&e).unwrap(), e);

        // Labels as the kind gives them, the key when it has none.
        let names = e.certificates[0].field_names(&kinds);
        assert_eq!(names[0].text(), "Name (姓名)");
        assert_eq!(names[0].key, "name");
        let odd = shown("abababab", &["shoe_size"]).field_names(&kinds);
        assert_eq!(odd[0].text(), "shoe_size");
        assert_eq!(
            e.certificates[0].kind_name(&kinds),
            "National ID card (居民身份证)"
        );
    }

    #[test]
    fn the_encoding_is_the_documented_one() {
        let mut e = entry(1_000, &["name"]);
        e.challenge = Some(Nonce::from_hex("9f3a").unwrap());
        let bytes = to_cbor(&e).unwrap();
        let mut expected = vec![0x84, 0x19, 0x03, 0xe8, 0x42, 0x9f, 0x3a, 0xf6, 0x81, 0x84];
        expected.push(0x68);
        expected.extend_from_slice(b"abababab");
        expected.push(0x67);
        expected.extend_from_slice(b"id-card");
        expected.push(0x6f);
        expected.extend_from_slice(b"public-security");
        expected.extend_from_slice(&[0x81, 0x64]);
        expected.extend_from_slice(b"name");
        assert_eq!(bytes, expected);
        // A counter's name is read already (for counters that will ask).
        e.counter = Some("Hotel Beijing, front desk".into());
        assert_eq!(round_trip(&e).unwrap(), e);
    }

    #[test]
    fn bad_entries_are_refused() {
        let mut history = History::new();
        let bad: Vec<Entry> = vec![
            Entry {
                certificates: vec![],
                ..entry(1, &[])
            },
            Entry {
                certificates: vec![shown("abababab", &[]); 9],
                ..entry(1, &[])
            },
            Entry {
                certificates: vec![shown("ABABABAB", &[])],
                ..entry(1, &[])
            },
            Entry {
                certificates: vec![shown("abab", &[])],
                ..entry(1, &[])
            },
            entry(1, &[""]),
            entry(1, &[&"k".repeat(65)]),
            Entry {
                counter: Some(String::new()),
                ..entry(1, &[])
            },
            Entry {
                counter: Some("c".repeat(129)),
                ..entry(1, &[])
            },
        ];
        for e in bad {
            assert!(history.record(e.clone()).is_err(), "{e:?}");
            assert!(round_trip(&e).is_err(), "{e:?}");
        }
        assert!(history.is_empty());
        // Other shapes: a short array, a boolean for the challenge.
        let short = to_cbor(&(1u64, Option::<Nonce>::None, Option::<String>::None)).unwrap();
        assert!(from_cbor_bounded::<Entry>("history entry", &short, MAX_BYTES).is_err());
        let boolean = to_cbor(&(
            1u64,
            true,
            Option::<String>::None,
            vec![shown("abababab", &[])],
        ))
        .unwrap();
        assert!(from_cbor_bounded::<Entry>("history entry", &boolean, MAX_BYTES).is_err());
    }

    #[test]
    fn newest_first_and_bounded() {
        let mut history = History::new();
        for t in 0..(MAX_ENTRIES as u64 + 5) {
            let dropped = history.record(entry(t, &["name"])).unwrap();
            assert_eq!(dropped, usize::from(t >= MAX_ENTRIES as u64), "at {t}");
        }
        assert_eq!(history.len(), MAX_ENTRIES);
        assert_eq!(
            history.entries()[0].time,
            UnixTime(5),
            "the oldest were dropped"
        );
        assert_eq!(
            history.newest_first().next().map(|e| e.time),
            Some(UnixTime(MAX_ENTRIES as u64 + 4))
        );
        // Recording order, not the clock's: an entry made after the clock went back is
        // still the newest.
        history.record(entry(3, &[])).unwrap();
        assert_eq!(
            history.newest_first().next().map(|e| e.time),
            Some(UnixTime(3))
        );
        assert_eq!(history.clear(), MAX_ENTRIES);
        assert!(history.is_empty());
    }

    #[test]
    fn large_entries_are_bounded_by_bytes() {
        // Eight certificates with 64 long keys each: about 33 KiB an entry.
        let key = "k".repeat(MAX_KEY_CHARS);
        let keys: Vec<&str> = vec![key.as_str(); MAX_FIELDS];
        let big = Entry {
            certificates: vec![shown("abababab", &keys); MAX_ITEMS],
            ..entry(0, &[])
        };
        let size = big.encoded_len();
        assert!(size > 30_000, "{size}");
        let mut history = History::new();
        let mut dropped = 0;
        for t in 0..100 {
            dropped += history
                .record(Entry {
                    time: UnixTime(t),
                    ..big.clone()
                })
                .unwrap();
        }
        assert!(dropped > 0);
        assert_eq!(history.len() + dropped, 100);
        let encoded = to_cbor(&history.entries).unwrap().len();
        assert!(encoded <= MAX_BYTES, "{encoded}");
        assert!(encoded + size > MAX_BYTES, "no more dropped than needed");
        assert_eq!(
            history.newest_first().next().map(|e| e.time),
            Some(UnixTime(99))
        );
        // A typical entry is small: 10 000 of them fit well within the bytes.
        let typical = entry(1_777_600_000, &["name", "id_number"]);
        assert!(typical.encoded_len() * MAX_ENTRIES < MAX_BYTES);
    }
}
