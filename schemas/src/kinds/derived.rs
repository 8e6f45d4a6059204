//! Derived facts: yes/no fields that a kind computes from one of its own fields when a
//! certificate is issued (`[[derived]]` entries of a kind file), so that a holder can show
//! "18 or over" without the date of birth. The rules are a small closed set; each names
//! its source field and is evaluated as of the certificate's issue date.

use serde::Deserialize;

use crate::date::{date_of_unix, Date};
use crate::kinds::{FieldType, FieldValue};
use crate::UnixTime;

/// The most years an `age-at-least` rule may ask for.
pub const MAX_AGE_YEARS: u16 = 150;

/// How a derived fact follows from its source field.
///
/// In a kind file: `rule = { type = "age-at-least", field = "birth_date", years = 18 }`,
/// `{ type = "contains-any", field = "vehicle_classes", values = ["B1", "C1"] }` or
/// `{ type = "equals", field = "result", value = "no-record" }`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DerivedRule {
    /// True when the holder had reached `years` of age on the certificate's issue date: the
    /// UTC calendar date of `iat` is on or after the `years`-th anniversary of the `date`
    /// field (a 29 February birthday's anniversary in a common year is 1 March).
    AgeAtLeast {
        /// The source field, of type `date`.
        field: String,
        /// The age, 1 to [`MAX_AGE_YEARS`].
        years: u16,
    },
    /// True when the `enum-list` field holds at least one of `values`.
    ContainsAny {
        /// The source field, of type `enum-list`.
        field: String,
        /// Values of the source field; at least one, none twice.
        values: Vec<String>,
    },
    /// True when the `enum` field's value is `value`.
    Equals {
        /// The source field, of type `enum`.
        field: String,
        /// One of the source field's values.
        value: String,
    },
}

impl DerivedRule {
    /// The key of the field the fact is computed from.
    pub fn source(&self) -> &str {
        match self {
            DerivedRule::AgeAtLeast { field, .. }
            | DerivedRule::ContainsAny { field, .. }
            | DerivedRule::Equals { field, .. } => field,
        }
    }

    /// The rule's name in kind files.
    pub fn name(&self) -> &'static str {
        match self {
            DerivedRule::AgeAtLeast { .. } => "age-at-least",
            DerivedRule::ContainsAny { .. } => "contains-any",
            DerivedRule::Equals { .. } => "equals",
        }
    }

    /// The type the source field must have.
    pub fn source_type(&self) -> FieldType {
        match self {
            DerivedRule::AgeAtLeast { .. } => FieldType::Date,
            DerivedRule::ContainsAny { .. } => FieldType::EnumList,
            DerivedRule::Equals { .. } => FieldType::Enum,
        }
    }

    /// The fact for the source field's value `source`, as of `issued_at` (the certificate's
    /// `iat`). A value of the wrong type or form is an error in words.
    pub fn evaluate(&self, source: &FieldValue, issued_at: UnixTime) -> Result<bool, String> {
        match (self, source) {
            (DerivedRule::AgeAtLeast { years, .. }, FieldValue::Text(text)) => {
                let birth = Date::parse(text)?;
                Ok(age_reached(birth, date_of_unix(issued_at.secs()), *years))
            }
            (DerivedRule::ContainsAny { values, .. }, FieldValue::TextList(list)) => {
                Ok(list.iter().any(|item| values.contains(item)))
            }
            (DerivedRule::Equals { value, .. }, FieldValue::Text(text)) => Ok(text == value),
            _ => Err(format!(
                "the {} rule cannot be applied to this value of {:?}",
                self.name(),
                self.source()
            )),
        }
    }
}

/// Whether someone born on `birth` had reached `years` of age on `on`: `on` is on or after
/// the same month and day `years` later. A 29 February birthday falls on 1 March in a common
/// year (it is the day after 28 February), so the comparison of (year, month, day) is the
/// whole rule.
pub fn age_reached(birth: Date, on: Date, years: u16) -> bool {
    match birth.year.checked_add(years) {
        Some(year) => (on.year, on.month, on.day) >= (year, birth.month, birth.day),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    /// Noon UTC of `day`.
    fn noon(day: &str) -> UnixTime {
        UnixTime(date(day).days_since_epoch() as u64 * 86_400 + 12 * 3600)
    }

    fn age(years: u16) -> DerivedRule {
        DerivedRule::AgeAtLeast {
            field: "birth_date".into(),
            years,
        }
    }

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.into())
    }

    #[test]
    fn an_age_is_reached_on_the_birthday_not_the_day_before() {
        let born = date("2008-05-20");
        assert!(!age_reached(born, date("2026-05-19"), 18));
        assert!(age_reached(born, date("2026-05-20"), 18));
        assert!(age_reached(born, date("2026-05-21"), 18));
        assert!(!age_reached(born, date("2025-12-31"), 18));
        assert!(age_reached(born, date("2027-01-01"), 18));
        // Born later than the day asked about.
        assert!(!age_reached(born, date("2000-01-01"), 1));
    }

    #[test]
    fn a_leap_day_birthday_is_reached_on_the_first_of_march_in_a_common_year() {
        let born = date("2008-02-29");
        // 2026 is a common year.
        assert!(!age_reached(born, date("2026-02-28"), 18));
        assert!(age_reached(born, date("2026-03-01"), 18));
        // 2068 is a leap year: the birthday itself.
        assert!(!age_reached(born, date("2068-02-28"), 60));
        assert!(age_reached(born, date("2068-02-29"), 60));
    }

    #[test]
    fn the_issue_date_is_the_utc_date_of_iat() {
        let rule = age(18);
        let birth = text("2008-05-20");
        let day_before = date("2026-05-19").days_since_epoch() as u64 * 86_400;
        // The last second of the day before the birthday, then the first of the birthday.
        assert_eq!(
            rule.evaluate(&birth, UnixTime(day_before + 86_399)),
            Ok(false)
        );
        assert_eq!(
            rule.evaluate(&birth, UnixTime(day_before + 86_400)),
            Ok(true)
        );
        assert_eq!(age(60).evaluate(&birth, noon("2068-05-20")), Ok(true));
        assert_eq!(age(60).evaluate(&birth, noon("2068-05-19")), Ok(false));
    }

    #[test]
    fn list_and_choice_rules() {
        let c1 = DerivedRule::ContainsAny {
            field: "vehicle_classes".into(),
            values: vec!["A1".into(), "B2".into(), "C1".into()],
        };
        let list = |v: &[&str]| FieldValue::TextList(v.iter().map(|s| s.to_string()).collect());
        let at = noon("2026-01-01");
        assert_eq!(c1.evaluate(&list(&["C1"]), at), Ok(true));
        assert_eq!(c1.evaluate(&list(&["D", "B2"]), at), Ok(true));
        assert_eq!(c1.evaluate(&list(&["C2", "D"]), at), Ok(false));
        assert_eq!(c1.evaluate(&list(&[]), at), Ok(false));
        let clean = DerivedRule::Equals {
            field: "result".into(),
            value: "no-record".into(),
        };
        assert_eq!(clean.evaluate(&text("no-record"), at), Ok(true));
        assert_eq!(clean.evaluate(&text("record-found"), at), Ok(false));
    }

    #[test]
    fn values_of_the_wrong_type_or_form_are_errors() {
        let at = noon("2026-01-01");
        assert!(age(18).evaluate(&text("20/05/2008"), at).is_err());
        assert!(age(18)
            .evaluate(&FieldValue::TextList(vec!["2008-05-20".into()]), at)
            .is_err());
        assert!(age(18).evaluate(&FieldValue::Bool(true), at).is_err());
        let clean = DerivedRule::Equals {
            field: "result".into(),
            value: "no-record".into(),
        };
        assert!(clean.evaluate(&FieldValue::Bytes(vec![0; 32]), at).is_err());
    }

    #[test]
    fn rules_are_read_strictly_from_toml() {
        #[derive(Deserialize)]
        struct Holder {
            rule: DerivedRule,
        }
        let read = |s: &str| toml::from_str::<Holder>(s).map(|h| h.rule);
        assert_eq!(
            read("rule = { type = \"age-at-least\", field = \"birth_date\", years = 18 }").unwrap(),
            age(18)
        );
        for bad in [
            "rule = { type = \"age-over\", field = \"birth_date\", years = 18 }",
            "rule = { field = \"birth_date\", years = 18 }",
            "rule = { type = \"age-at-least\", field = \"birth_date\" }",
            "rule = { type = \"age-at-least\", field = \"birth_date\", years = 18, extra = 1 }",
            "rule = { type = \"age-at-least\", field = \"birth_date\", years = -1 }",
            "rule = { type = \"equals\", field = \"result\", values = [\"no-record\"] }",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
