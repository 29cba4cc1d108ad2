//! A dispatch record as the table holds it: the attributes this system reads and writes,
//! typed, and every other attribute kept as it was found, so nothing a record carries is
//! lost when a tool reads it, shows it or writes it back.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use contract::table::attr;
use contract::DispatchStatus;
use serde::{Serialize, Serializer};

/// One attribute's value, in the table's own kinds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(String),
    /// A number, as the table's decimal text.
    Number(String),
    Bool(bool),
    /// A kind this system never writes (a list, a map, a set, binary): shown as found,
    /// never written back.
    Other(String),
}

impl Value {
    /// The value as one line of text: strings and numbers as they are.
    pub fn to_text(&self) -> String {
        match self {
            Value::Text(text) | Value::Number(text) | Value::Other(text) => text.clone(),
            Value::Bool(flag) => flag.to_string(),
        }
    }
}

/// A dispatch record. The typed fields are the attributes of `contract::table::attr`; an
/// attribute of an unexpected kind (a `status` stored as a number, say) is not forced into
/// them but kept in `other`, under its own name, like every attribute this type does not
/// model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DispatchRecord {
    pub dispatch_id: String,
    pub status: Option<String>,
    /// As stored: may be empty on a record written by hand. [`DispatchRecord::task`]
    /// gives the task it names, if any.
    pub task_arn: Option<String>,
    pub created_at: Option<String>,
    pub ended_at: Option<String>,
    pub exit_code: Option<i64>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub ecs_version: Option<u64>,
    pub updated_at: Option<String>,
    pub update_request_id: Option<String>,
    pub settled_by: Option<String>,
    pub settle_reason: Option<String>,
    /// Set while the terminal status is the reconciler's guess.
    pub provisional: Option<bool>,
    /// The guess a task's own event corrected.
    pub corrected_guess: Option<String>,
    /// Every other attribute, as found.
    pub other: BTreeMap<String, Value>,
}

/// A text attribute's slot in [`DispatchRecord`].
type TextField = fn(&mut DispatchRecord) -> &mut Option<String>;

/// The text attributes, by name.
const TEXT_FIELDS: [(&str, TextField); 11] = [
    (attr::STATUS, |r| &mut r.status),
    (attr::TASK_ARN, |r| &mut r.task_arn),
    (attr::CREATED_AT, |r| &mut r.created_at),
    (attr::ENDED_AT, |r| &mut r.ended_at),
    (attr::STOP_CODE, |r| &mut r.stop_code),
    (attr::STOPPED_REASON, |r| &mut r.stopped_reason),
    (attr::UPDATED_AT, |r| &mut r.updated_at),
    (attr::UPDATE_REQUEST_ID, |r| &mut r.update_request_id),
    (attr::SETTLED_BY, |r| &mut r.settled_by),
    (attr::SETTLE_REASON, |r| &mut r.settle_reason),
    (attr::CORRECTED_GUESS, |r| &mut r.corrected_guess),
];

impl DispatchRecord {
    /// Reads a record from its attributes; `None` without a text `dispatchId` (then it is
    /// not a dispatch record).
    pub fn from_attributes(
        attributes: impl IntoIterator<Item = (String, Value)>,
    ) -> Option<DispatchRecord> {
        let mut record = DispatchRecord::default();
        let mut dispatch_id = None;
        for (name, value) in attributes {
            if let (attr::DISPATCH_ID, Value::Text(id)) = (name.as_str(), &value) {
                dispatch_id = Some(id.clone());
            } else if !record.take(&name, &value) {
                record.other.insert(name, value);
            }
        }
        record.dispatch_id = dispatch_id?;
        Some(record)
    }

    /// Puts a modeled attribute in its field; false when `name` is not modeled or `value`
    /// is not of its kind, or would not read back the same (a number such as `1e2`).
    fn take(&mut self, name: &str, value: &Value) -> bool {
        let text_field = TEXT_FIELDS.iter().find(|(field, _)| *field == name);
        match (name, value, text_field) {
            (_, Value::Text(text), Some((_, field))) => *field(self) = Some(text.clone()),
            (attr::PROVISIONAL, Value::Bool(flag), _) => self.provisional = Some(*flag),
            (attr::EXIT_CODE, Value::Number(n), _) => return exact(&mut self.exit_code, n),
            (attr::ECS_VERSION, Value::Number(n), _) => return exact(&mut self.ecs_version, n),
            _ => return false,
        }
        true
    }

    /// Every attribute, modeled or not, as the table holds it.
    pub fn attributes(&self) -> BTreeMap<String, Value> {
        let mut copy = self.clone();
        let texts =
            TEXT_FIELDS.map(|(name, field)| (name, field(&mut copy).take().map(Value::Text)));
        let numbers = [
            (attr::EXIT_CODE, self.exit_code.map(|n| n.to_string())),
            (attr::ECS_VERSION, self.ecs_version.map(|n| n.to_string())),
        ];
        let numbers = numbers.map(|(name, number)| (name, number.map(Value::Number)));
        let flag = (attr::PROVISIONAL, self.provisional.map(Value::Bool));
        let id = (attr::DISPATCH_ID, Some(Value::Text(copy.dispatch_id)));
        let modeled = texts.into_iter().chain(numbers).chain([flag, id]);
        let mut all = self.other.clone();
        all.extend(modeled.filter_map(|(name, value)| Some((name.to_owned(), value?))));
        all
    }

    /// Every attribute as one line of text each: what a person is shown.
    pub fn to_text(&self) -> BTreeMap<String, String> {
        self.attributes()
            .into_iter()
            .map(|(name, value)| (name, value.to_text()))
            .collect()
    }

    /// The task the record names, if it names one (an empty ARN names none).
    pub fn task(&self) -> Option<&str> {
        self.task_arn.as_deref().filter(|arn| !arn.is_empty())
    }

    /// The terminal status the record holds, if it holds one.
    pub fn terminal_status(&self) -> Option<DispatchStatus> {
        self.status.as_deref().and_then(DispatchStatus::parse)
    }

    /// Whether the terminal status is the reconciler's guess, which the task's own event
    /// may still correct (`contract::status::GUESS_STOP_CODE`).
    pub fn is_guess(&self) -> bool {
        self.terminal_status().is_some()
            && self.stop_code.as_deref() == Some(contract::status::GUESS_STOP_CODE)
    }

    /// When the control plane created the dispatch, if `createdAt` is RFC 3339.
    pub fn created(&self) -> Option<DateTime<Utc>> {
        let created_at = self.created_at.as_deref()?;
        let parsed = DateTime::parse_from_rfc3339(created_at).ok()?;
        Some(parsed.with_timezone(&Utc))
    }
}

/// A record is shown (a CLI's JSON document) as every attribute's text, by name.
impl Serialize for DispatchRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.to_text())
    }
}

/// Sets `field` to `number` as an integer, only when the integer reads back as the same
/// text; whether it did.
fn exact<N: std::str::FromStr + ToString>(field: &mut Option<N>, number: &str) -> bool {
    *field = number
        .parse::<N>()
        .ok()
        .filter(|parsed| parsed.to_string() == number);
    field.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(name: &str, value: &str) -> (String, Value) {
        (name.to_owned(), Value::Text(value.to_owned()))
    }

    fn number(name: &str, value: &str) -> (String, Value) {
        (name.to_owned(), Value::Number(value.to_owned()))
    }

    #[test]
    fn a_record_reads_its_attributes_and_gives_every_one_back() {
        let found = vec![
            text("dispatchId", "d-1"),
            text("status", "COMPLETED"),
            text("taskArn", "arn:t"),
            number("exitCode", "0"),
            number("ecsVersion", "3"),
            text("owner", "team-a"),
            ("priority".to_owned(), Value::Number("2".into())),
            ("retried".to_owned(), Value::Bool(true)),
            ("provisional".to_owned(), Value::Bool(true)),
        ];
        let record = DispatchRecord::from_attributes(found.clone()).unwrap();
        assert_eq!(record.dispatch_id, "d-1");
        assert_eq!(record.terminal_status(), Some(DispatchStatus::Completed));
        assert_eq!(record.exit_code, Some(0));
        assert_eq!(record.ecs_version, Some(3));
        assert_eq!(record.task(), Some("arn:t"));
        assert_eq!(record.other.len(), 3);
        assert_eq!(record.attributes(), found.into_iter().collect());
        assert_eq!(record.to_text()["retried"], "true");
    }

    #[test]
    fn an_attribute_of_an_unexpected_kind_is_kept_as_found() {
        let found = vec![
            text("dispatchId", "d-1"),
            number("status", "1"),
            number("exitCode", "1e2"),
            text("ecsVersion", "three"),
            text("taskArn", ""),
        ];
        let record = DispatchRecord::from_attributes(found.clone()).unwrap();
        assert_eq!(record.status, None);
        assert_eq!(record.exit_code, None);
        assert_eq!(record.ecs_version, None);
        assert_eq!(record.task(), None);
        assert_eq!(record.attributes(), found.into_iter().collect());
    }

    #[test]
    fn without_a_text_dispatch_id_it_is_no_dispatch_record() {
        assert_eq!(
            DispatchRecord::from_attributes(vec![text("status", "RUNNING")]),
            None
        );
        assert_eq!(
            DispatchRecord::from_attributes(vec![number("dispatchId", "7")]),
            None
        );
    }

    #[test]
    fn created_is_read_only_from_rfc_3339() {
        let record = |created: &str| DispatchRecord {
            created_at: Some(created.to_owned()),
            ..DispatchRecord::default()
        };
        assert!(record("2026-01-15T19:39:31Z").created().is_some());
        assert_eq!(record("15/01/2026").created(), None);
    }
}
