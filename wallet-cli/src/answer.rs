//! Answering a counter's request (`ecert_verifier::request`): for each kind asked, the
//! certificate to show and exactly the fields asked; the kinds not shown, and why. And the
//! rule for presentations made without a request: a kind with an audience is shown only
//! in answer to a registered counter of one of its roles.

use ecert_schemas::request::FieldsAsked;
use ecert_schemas::{KindId, KindRegistry, UnixTime};
use ecert_verifier::request::CheckedRequest;

use crate::certs::{Choice, Entry};
use crate::WalletError;

/// Why a kind asked for is not shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotShown {
    /// The wallet holds no certificate of the kind.
    NotHeld,
    /// It holds some, but none is valid now.
    NoneValid,
    /// The kind may be shown only to other counters (its audience).
    Audience {
        /// The roles it may be shown to.
        roles: Vec<String>,
        /// The asking counter's role.
        role: String,
    },
    /// Every copy of every certificate of the kind has been shown.
    NoCopiesLeft,
}

impl std::fmt::Display for NotShown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotShown::NotHeld => write!(f, "this wallet holds no such certificate"),
            NotShown::NoneValid => write!(f, "no certificate of this kind is valid today"),
            NotShown::Audience { roles, role } => write!(
                f,
                "it may be shown only to registered {} in answer to their request, and this \
                 counter is registered as {role:?}",
                roles.join(" or ")
            ),
            NotShown::NoCopiesLeft => write!(
                f,
                "every copy has been shown: ask the department for new copies (ecert-wallet refill)"
            ),
        }
    }
}

/// A kind asked for and not shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declined {
    /// The kind.
    pub kind: KindId,
    /// Why.
    pub reason: NotShown,
}

/// What the wallet shows in answer to a request.
#[derive(Clone, Debug)]
pub struct Answer<'e, 'p> {
    /// The certificates and the fields asked of each, in the request's order.
    pub choices: Vec<Choice<'e, 'p>>,
    /// The kinds not shown.
    pub declined: Vec<Declined>,
}

/// For each kind `request` asks for: the certificate of that kind valid at `now` that the
/// wallet shows (a one-time-copy certificate with copies left before a whole one; the
/// latest issued first), with exactly the fields asked; or why none is shown.
pub fn answer<'e, 'p>(
    request: &CheckedRequest,
    entries: &'e [Entry<'p>],
    kinds: &KindRegistry,
    now: UnixTime,
) -> Answer<'e, 'p> {
    let mut choices = Vec::new();
    let mut declined = Vec::new();
    for ask in &request.asks {
        match pick(ask, &request.role, entries, kinds, now) {
            Ok(entry) => choices.push(Choice {
                entry,
                fields: ask.fields.clone(),
            }),
            Err(reason) => declined.push(Declined {
                kind: ask.kind.clone(),
                reason,
            }),
        }
    }
    Answer { choices, declined }
}

fn pick<'e, 'p>(
    ask: &FieldsAsked,
    role: &str,
    entries: &'e [Entry<'p>],
    kinds: &KindRegistry,
    now: UnixTime,
) -> Result<&'e Entry<'p>, NotShown> {
    if let Ok(kind) = kinds.get(&ask.kind) {
        if !kind.audience_admits(Some(role)) {
            return Err(NotShown::Audience {
                roles: kind.audience.iter().flatten().cloned().collect(),
                role: role.to_owned(),
            });
        }
    }
    let of_kind: Vec<&'e Entry<'p>> = entries
        .iter()
        .filter(|e| e.kind_id() == &ask.kind)
        .collect();
    if of_kind.is_empty() {
        return Err(NotShown::NotHeld);
    }
    let valid: Vec<&'e Entry<'p>> = of_kind.into_iter().filter(|e| e.valid_at(now)).collect();
    if valid.is_empty() {
        return Err(NotShown::NoneValid);
    }
    let usable = |e: &&Entry<'p>| e.copies().is_none_or(|c| c.left > 0);
    valid
        .iter()
        .copied()
        .filter(usable)
        .max_by_key(|e| (e.copies().is_some(), e.issued_at()))
        .ok_or(NotShown::NoCopiesLeft)
}

/// Refuses a presentation made without a request if one of its certificates is of a kind
/// with an audience: such a kind is shown only in answer to a registered counter.
pub fn check_unrequested(
    choices: &[Choice<'_, '_>],
    kinds: &KindRegistry,
) -> Result<(), WalletError> {
    for choice in choices {
        if let Ok(kind) = kinds.get(choice.entry.kind_id()) {
            if !kind.audience_admits(None) {
                return Err(WalletError::AudienceOnly {
                    kind: kind.id.clone(),
                    roles: kind
                        .audience
                        .iter()
                        .flatten()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" or "),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::certs::{choose, entries};
    use crate::store::Held;
    use crate::HolderKey;
    use ecert_schemas::{IssuerId, Nonce};
    use rand_core::OsRng;

    /// The built-in kinds and a kind shown only to employers and offices.
    fn kinds() -> KindRegistry {
        let mut kinds = KindRegistry::builtin().unwrap();
        kinds
            .add_file(
                "work-permit.toml",
                r#"
id = "work-permit"
version = 1
name = "Work permit"
description = "A test kind with an audience."
issuers = ["public-security"]
audience = ["employer", "office"]
[validity]
max_days = 365
[[fields]]
number = 0
key = "name"
label = "Name"
type = "text"
mandatory = true
"#,
            )
            .unwrap();
        kinds
    }

    fn request(role: &str, asks: &[(&str, &[&str])]) -> CheckedRequest {
        CheckedRequest {
            counter: "Counter".into(),
            counter_local: None,
            role: role.into(),
            department: IssuerId::new("public-security").unwrap(),
            department_name: "Public Security Bureau".into(),
            asks: asks
                .iter()
                .map(|(kind, fields)| FieldsAsked {
                    kind: KindId::new(*kind).unwrap(),
                    fields: fields.iter().map(|f| f.to_string()).collect(),
                })
                .collect(),
            purpose: "test".into(),
            binding: Nonce::new(vec![0; 16]).unwrap(),
        }
    }

    fn wallet() -> Vec<Held> {
        let holder = HolderKey::generate(&mut OsRng);
        let card =
            crate::certs::tests::package(&holder, "id-card", [1; 16], 10, 1_000, &[(0, "周杰")]);
        let permit = crate::certs::tests::package(
            &holder,
            "work-permit",
            [2; 16],
            10,
            1_000,
            &[(0, "周杰")],
        );
        let old = crate::certs::tests::package(
            &holder,
            "driver-licence",
            [3; 16],
            10,
            20,
            &[(0, "周杰")],
        );
        vec![Held::Whole(card), Held::Whole(permit), Held::Whole(old)]
    }

    #[test]
    fn answers_exactly_what_was_asked_and_says_what_it_does_not_show() {
        let kinds = kinds();
        let held = wallet();
        let entries = entries(&held).unwrap();
        let r = request(
            "hotel",
            &[
                ("id-card", &["name"]),
                ("work-permit", &["name"]),
                ("driver-licence", &["name"]),
                ("social-security-card", &["name"]),
            ],
        );
        let a = answer(&r, &entries, &kinds, UnixTime(100));
        assert_eq!(a.choices.len(), 1);
        assert_eq!(a.choices[0].entry.kind_id().as_str(), "id-card");
        assert_eq!(a.choices[0].fields, ["name"]);
        let reasons: Vec<&NotShown> = a.declined.iter().map(|d| &d.reason).collect();
        assert!(matches!(reasons[0], NotShown::Audience { role, .. } if role == "hotel"));
        assert_eq!(reasons[1], &NotShown::NoneValid);
        assert_eq!(reasons[2], &NotShown::NotHeld);
        assert!(reasons[0].to_string().contains("employer or office"));

        let employer = request("employer", &[("work-permit", &["name"])]);
        let a = answer(&employer, &entries, &kinds, UnixTime(100));
        assert_eq!(a.choices.len(), 1);
        assert!(a.declined.is_empty());
    }

    #[test]
    fn a_kind_with_an_audience_is_not_shown_without_a_request() {
        let kinds = kinds();
        let held = wallet();
        let entries = entries(&held).unwrap();
        let spec = |kind: &str| vec![(kind.to_owned(), vec!["name".to_owned()])];
        let card = choose(&entries, &spec("id-card"), &kinds, UnixTime(100)).unwrap();
        assert!(check_unrequested(&card, &kinds).is_ok());
        let permit = choose(&entries, &spec("work-permit"), &kinds, UnixTime(100)).unwrap();
        let err = check_unrequested(&permit, &kinds).unwrap_err();
        assert!(matches!(err, WalletError::AudienceOnly { .. }));
        assert!(err.to_string().contains("employer or office"), "{err}");
    }
}
