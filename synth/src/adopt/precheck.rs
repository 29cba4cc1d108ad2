//! The adoption's pre-checks: an import cannot change a key or an index (a later deploy
//! that did would replace the table, and every record with it), so the running table's key
//! schema, key attribute types, indexes (keys, projection) and billing mode must be the
//! template's, and point-in-time recovery must be on so that the migration can be undone.
//! Both sides are read into one [`TableShape`] (CloudFormation and `DescribeTable` spell a
//! table alike); [`compare`] reports every difference at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::config::Config;
use crate::SynthError;

/// A secondary index: its key schema (`status (HASH), createdAt (RANGE)`, or `no key`) and
/// its projection (`ALL`, `KEYS_ONLY`, `INCLUDE (a, b)` with the attributes sorted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    pub keys: String,
    pub projection: String,
}

/// The parts of a table that the adoption relies on, read from the template or from AWS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableShape {
    pub name: String,
    /// Written as an index's.
    pub keys: String,
    /// Every attribute a key uses, with its scalar type (`S`, `N`, `B`).
    pub attribute_types: BTreeMap<String, String>,
    /// Every secondary index, as a person names it: `index NAME` (global), `local index NAME`.
    pub indexes: BTreeMap<String, Index>,
    pub billing_mode: String,
    pub point_in_time_recovery: bool,
}

/// What is at `at` in the document `what`; a document without it is not a table's.
fn require<'v>(what: &str, document: &'v Value, at: &str) -> Result<&'v Value, SynthError> {
    let (what, reason) = (what.to_owned(), format!("{at} is missing"));
    let missing = SynthError::Parse { what, reason };
    document.pointer(at).ok_or(missing)
}

/// The text at `at` in `value`; `?` when there is none, which differs from any name.
fn text(value: &Value, at: &str) -> String {
    let text = value.pointer(at).and_then(Value::as_str);
    text.unwrap_or("?").to_owned()
}

/// Each element of the list at `at` in `value` as `read` gives it; none when there is none.
fn list<T, U: FromIterator<T>>(value: &Value, at: &str, read: impl Fn(&Value) -> T) -> U {
    let list = value.pointer(at).and_then(Value::as_array);
    list.into_iter().flatten().map(read).collect()
}

/// The key schema in `value`, as a person reads it.
fn keys(value: &Value) -> String {
    let key = |key: &Value| text(key, "/AttributeName") + " (" + &text(key, "/KeyType") + ")";
    let keys: Vec<String> = list(value, "/KeySchema", key);
    if keys.is_empty() {
        return "no key".to_owned();
    }
    keys.join(", ")
}

/// An index of a `kind` (`index`, `local index`), named as a person names it.
fn index(kind: &str, index: &Value) -> (String, Index) {
    let mut projection = text(index, "/Projection/ProjectionType");
    let included: BTreeSet<String> = list(index, "/Projection/NonKeyAttributes", |i| text(i, ""));
    if !included.is_empty() {
        projection += &format!(" ({})", Vec::from_iter(included).join(", "));
    }
    let (name, keys) = (format!("{kind} {}", text(index, "/IndexName")), keys(index));
    (name, Index { keys, projection })
}

impl TableShape {
    /// The table a template declares, from its `Properties`.
    pub fn from_template(properties: &Value) -> Result<TableShape, SynthError> {
        let mut shape = TableShape::read("the template's table", properties, "")?;
        shape.billing_mode = text(properties, "/BillingMode");
        let recovery = &properties["PointInTimeRecoverySpecification"];
        shape.point_in_time_recovery = recovery["PointInTimeRecoveryEnabled"] == true;
        Ok(shape)
    }

    /// The running table, from what `aws dynamodb describe-table` and
    /// `aws dynamodb describe-continuous-backups` print (`--output json`).
    pub fn from_aws(describe_table: &Value, backups: &Value) -> Result<TableShape, SynthError> {
        let mut shape = TableShape::read("describe-table's answer", describe_table, "/Table")?;
        // None on a table provisioned since before billing-mode summaries existed.
        let billing_mode = describe_table.pointer("/Table/BillingModeSummary/BillingMode");
        let billing_mode = billing_mode.and_then(Value::as_str);
        shape.billing_mode = billing_mode.unwrap_or("PROVISIONED").to_owned();
        let what = "describe-continuous-backups' answer";
        let backups = require(what, backups, "/ContinuousBackupsDescription")?;
        // Absent on a table whose recovery was never configured: off.
        let recovery = &backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"];
        shape.point_in_time_recovery = *recovery == "ENABLED";
        Ok(shape)
    }

    /// The table at `at` in `document`, but for its billing mode and recovery (read apart).
    fn read(what: &str, document: &Value, at: &str) -> Result<TableShape, SynthError> {
        let table = require(what, document, at)?;
        for field in ["TableName", "KeySchema", "AttributeDefinitions"] {
            require(what, document, &format!("{at}/{field}"))?;
        }
        let attribute = |item: &Value| (text(item, "/AttributeName"), text(item, "/AttributeType"));
        let (global, local) = (|i: &_| index("index", i), |i: &_| index("local index", i));
        let mut indexes: BTreeMap<_, _> = list(table, "/GlobalSecondaryIndexes", global);
        indexes.append(&mut list(table, "/LocalSecondaryIndexes", local));
        Ok(TableShape {
            name: text(table, "/TableName"),
            keys: keys(table),
            attribute_types: list(table, "/AttributeDefinitions", attribute),
            indexes,
            ..TableShape::default()
        })
    }
}

/// `synth adopt check --table FILE --continuous-backups FILE` (describe-table's and
/// describe-continuous-backups' answers): prints a line for each aspect that agrees with the
/// template, every difference on standard error, and returns whether they all agree.
pub fn show(describe_table: &Path, continuous_backups: &Path) -> Result<bool, SynthError> {
    let template = serde_json::to_value(crate::stack::table::dispatch_table(&Config::runbook()))
        .expect("the table serializes");
    let template = TableShape::from_template(&template)?;
    let table = super::read_json(describe_table)?;
    let backups = super::read_json(continuous_backups)?;
    let running = TableShape::from_aws(&table, &backups)?;
    let (found, name) = (compare(&template, &running), &running.name);
    for line in &found.agreed {
        println!("  ok: {name} {line}");
    }
    for (_, difference) in &found.differences {
        eprintln!("adopt: table {name}: {difference}");
    }
    if !found.differences.is_empty() {
        eprintln!("adopt: the table {name} is not the template's (above): nothing was changed");
    }
    Ok(found.differences.is_empty())
}

/// What a difference is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aspect {
    Name,
    KeySchema,
    AttributeType,
    Index,
    BillingMode,
    PointInTimeRecovery,
}

/// What [`compare`] found: a line for each aspect that agrees (what `make adopt` shows as
/// `ok`), and every difference: what it is about, and how a person reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub agreed: Vec<String>,
    pub differences: Vec<(Aspect, String)>,
}

impl Comparison {
    /// The line `agreed`, or the differences `found` about `aspect` when there are any.
    fn check<D: IntoIterator<Item = String>>(&mut self, aspect: Aspect, agreed: String, found: D) {
        let before = self.differences.len();
        let found = found.into_iter().map(|text| (aspect, text));
        self.differences.extend(found);
        if self.differences.len() == before {
            self.agreed.push(agreed);
        }
    }
}

/// `WHAT: the table has A, the template B`, when the table's `A` is not the template's `B`.
fn has(what: &str, [table, template]: [&str; 2]) -> Option<String> {
    let text = format!("{what}: the table has {table}, the template {template}");
    (table != template).then_some(text)
}

/// Compares the running table with the template's: key schema, attribute types, global and
/// local indexes (key schema and projection), billing mode, point-in-time recovery.
pub fn compare(template: &TableShape, table: &TableShape) -> Comparison {
    let mut found = Comparison::default();
    let (table_name, other, keys) = (&table.name, &template.name, &table.keys);
    let renamed = format!("the table is named {table_name}, the template's {other}");
    let renamed = (table_name != other).then_some((Aspect::Name, renamed));
    found.differences.extend(renamed);
    let rekeyed = has("key schema", [keys, &template.keys]);
    let rekeyed = rekeyed.map(|text| text + "; an import cannot change a key");
    found.check(Aspect::KeySchema, format!("key schema {keys}"), rekeyed);

    let (theirs, ours) = (&table.attribute_types, &template.attribute_types);
    let mut retyped = Vec::new();
    for name in theirs.keys().chain(ours.keys()).collect::<BTreeSet<_>>() {
        let [has_type, declared] = [theirs, ours].map(|types| types.get(name));
        let types = [has_type, declared].map(|kind| kind.map_or("not defined", String::as_str));
        retyped.extend(has(&format!("attribute {name}"), types));
    }
    let types = Vec::from_iter(theirs.iter().map(|(name, kind)| format!("{name} {kind}")));
    let agreed = format!("key attribute types {}", types.join(", "));
    found.check(Aspect::AttributeType, agreed, retyped);

    // The template's indexes, then the table's others; global ones first.
    let (theirs, ours) = (&table.indexes, &template.indexes);
    let mut names = Vec::from_iter(ours.keys().chain(theirs.keys()));
    names.sort_by_key(|name| (name.starts_with("local "), !ours.contains_key(*name), *name));
    names.dedup();
    for name in names {
        let Some((have, want)) = theirs.get(name).zip(ours.get(name)) else {
            let missing = match ours.contains_key(name) {
                true => format!("{name}: the template declares it, the table does not have it"),
                false => format!("{name}: the table has it, the template does not declare it"),
            };
            found.differences.push((Aspect::Index, missing));
            continue;
        };
        let keys = has(&format!("{name} key schema"), [&have.keys, &want.keys]);
        let projection = [have.projection.as_str(), &want.projection];
        let projection = has(&format!("{name} projection"), projection);
        let agreed = format!("{name}: {}, projection {}", have.keys, have.projection);
        found.check(Aspect::Index, agreed, keys.into_iter().chain(projection));
    }

    let (bills, billed) = (&table.billing_mode, &template.billing_mode);
    let rebilled = format!(
        "billing mode: the table bills {bills}, the template {billed}; change one of them first"
    );
    let rebilled = (bills != billed).then_some(rebilled);
    let agreed = format!("billing mode {bills}");
    found.check(Aspect::BillingMode, agreed, rebilled);
    let on = table.point_in_time_recovery;
    let recovery = if template.point_in_time_recovery {
        format!(
            "point-in-time recovery is DISABLED on {table_name}; turn it on first: \
             aws dynamodb update-continuous-backups --table-name {table_name} \
             --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true"
        )
    } else {
        format!("point-in-time recovery is ENABLED on {table_name}, the template has it DISABLED")
    };
    let recovery = (on != template.point_in_time_recovery).then_some(recovery);
    let state = if on { "ENABLED" } else { "DISABLED" };
    let agreed = format!("point-in-time recovery {state}");
    found.check(Aspect::PointInTimeRecovery, agreed, recovery);
    found
}

#[cfg(test)]
mod tests {
    use contract::table::{attr, NAME, STATUS_INDEX, TASK_ARN_INDEX};
    use serde_json::json;

    use super::*;
    use crate::config::Config;

    /// The template's table, as the pre-checks read it.
    fn template() -> TableShape {
        let properties =
            serde_json::to_value(crate::stack::table::dispatch_table(&Config::runbook()))
                .expect("the table serializes");
        TableShape::from_template(&properties).expect("the template's table reads")
    }

    /// What `aws dynamodb describe-table` prints for a table made as the template says,
    /// with the fields AWS adds that the pre-checks do not read.
    fn described() -> Value {
        let index = |name: &str, keys: Value, projection: &str| {
            json!({
                "IndexName": name,
                "KeySchema": keys,
                "Projection": {"ProjectionType": projection},
                "IndexStatus": "ACTIVE",
                "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
                "IndexSizeBytes": 0,
                "ItemCount": 0,
                "IndexArn": format!("arn:aws:dynamodb:us-east-1:311493921645:table/{NAME}/index/{name}"),
            })
        };
        json!({"Table": {
            "AttributeDefinitions": [
                {"AttributeName": attr::DISPATCH_ID, "AttributeType": "S"},
                {"AttributeName": attr::TASK_ARN, "AttributeType": "S"},
                {"AttributeName": attr::STATUS, "AttributeType": "S"},
                {"AttributeName": attr::CREATED_AT, "AttributeType": "S"},
            ],
            "TableName": NAME,
            "KeySchema": [{"AttributeName": attr::DISPATCH_ID, "KeyType": "HASH"}],
            "TableStatus": "ACTIVE",
            "CreationDateTime": 1_767_225_600.0,
            "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
            "TableSizeBytes": 0,
            "ItemCount": 0,
            "TableArn": format!("arn:aws:dynamodb:us-east-1:311493921645:table/{NAME}"),
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": 1_767_225_600.0},
            "GlobalSecondaryIndexes": [
                index(TASK_ARN_INDEX.name, json!([{"AttributeName": attr::TASK_ARN, "KeyType": "HASH"}]), "KEYS_ONLY"),
                index(STATUS_INDEX.name, json!([
                    {"AttributeName": attr::STATUS, "KeyType": "HASH"},
                    {"AttributeName": attr::CREATED_AT, "KeyType": "RANGE"},
                ]), "ALL"),
            ],
            "DeletionProtectionEnabled": false,
        }})
    }

    /// What `aws dynamodb describe-continuous-backups` prints with recovery on.
    fn backups() -> Value {
        json!({"ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {
                "PointInTimeRecoveryStatus": "ENABLED",
                "RecoveryPeriodInDays": 35,
                "EarliestRestorableDateTime": 1_767_225_600.0,
                "LatestRestorableDateTime": 1_767_229_200.0,
            },
        }})
    }

    /// The running table (`describe-table`, `describe-continuous-backups`) after `change`,
    /// compared with the template: `expected` is every difference, as the person reads it.
    fn check(change: impl FnOnce(&mut Value, &mut Value), expected: &[&str]) {
        let (mut table, mut recovery) = (described(), backups());
        change(&mut table, &mut recovery);
        let running = TableShape::from_aws(&table, &recovery).expect("the answers read");
        let found: Vec<String> = compare(&template(), &running)
            .differences
            .into_iter()
            .map(|(_, difference)| difference)
            .collect();
        assert_eq!(found, expected);
    }

    fn global_index<'a>(table: &'a mut Value, name: &str) -> &'a mut Value {
        table["Table"]["GlobalSecondaryIndexes"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|index| index["IndexName"] == name)
            .unwrap()
    }

    #[test]
    fn a_table_made_as_the_template_says_agrees_on_every_aspect() {
        check(|_, _| {}, &[]);
        let running = TableShape::from_aws(&described(), &backups()).unwrap();
        assert_eq!(
            compare(&template(), &running).agreed,
            [
                "key schema dispatchId (HASH)",
                "key attribute types createdAt S, dispatchId S, status S, taskArn S",
                "index status-createdAt-index: status (HASH), createdAt (RANGE), projection ALL",
                "index task_arn-index: taskArn (HASH), projection KEYS_ONLY",
                "billing mode PAY_PER_REQUEST",
                "point-in-time recovery ENABLED",
            ]
        );
    }

    #[test]
    fn the_key_schema_must_be_the_templates() {
        check(
            |table, _| {
                table["Table"]["KeySchema"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"AttributeName": attr::CREATED_AT, "KeyType": "RANGE"}));
            },
            &[
                "key schema: the table has dispatchId (HASH), createdAt (RANGE), the template \
               dispatchId (HASH); an import cannot change a key",
            ],
        );
        check(
            |table, _| table["Table"]["KeySchema"][0]["AttributeName"] = json!("id"),
            &[
                "key schema: the table has id (HASH), the template dispatchId (HASH); an import \
               cannot change a key",
            ],
        );
    }

    #[test]
    fn key_attributes_must_have_the_templates_types() {
        check(
            |table, _| table["Table"]["AttributeDefinitions"][3]["AttributeType"] = json!("N"),
            &["attribute createdAt: the table has N, the template S"],
        );
    }

    #[test]
    fn both_indexes_must_exist_with_the_templates_keys_and_projection() {
        check(
            |table, _| {
                table["Table"]["GlobalSecondaryIndexes"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|index| index["IndexName"] != TASK_ARN_INDEX.name);
            },
            &["index task_arn-index: the template declares it, the table does not have it"],
        );
        check(
            |table, _| {
                table["Table"].as_object_mut().unwrap().remove("GlobalSecondaryIndexes");
            },
            &[
                "index status-createdAt-index: the template declares it, the table does not have it",
                "index task_arn-index: the template declares it, the table does not have it",
            ],
        );
        check(
            |table, _| {
                global_index(table, STATUS_INDEX.name)["KeySchema"]
                    .as_array_mut()
                    .unwrap()
                    .pop();
            },
            &[
                "index status-createdAt-index key schema: the table has status (HASH), the \
               template status (HASH), createdAt (RANGE)",
            ],
        );
        check(
            |table, _| {
                global_index(table, TASK_ARN_INDEX.name)["Projection"] = json!({
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": [attr::STATUS, attr::CREATED_AT],
                });
            },
            &[
                "index task_arn-index projection: the table has INCLUDE (createdAt, status), the \
               template KEYS_ONLY",
            ],
        );
        check(
            |table, _| global_index(table, STATUS_INDEX.name)["Projection"]["ProjectionType"] = json!("KEYS_ONLY"),
            &["index status-createdAt-index projection: the table has KEYS_ONLY, the template ALL"],
        );
    }

    #[test]
    fn an_index_the_template_does_not_declare_is_a_difference() {
        check(
            |table, _| {
                let mut extra = global_index(table, TASK_ARN_INDEX.name).clone();
                extra["IndexName"] = json!("by-task");
                table["Table"]["GlobalSecondaryIndexes"]
                    .as_array_mut()
                    .unwrap()
                    .push(extra);
                table["Table"]["LocalSecondaryIndexes"] = json!([{
                    "IndexName": "by-created",
                    "KeySchema": [
                        {"AttributeName": attr::DISPATCH_ID, "KeyType": "HASH"},
                        {"AttributeName": attr::CREATED_AT, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }]);
            },
            &[
                "index by-task: the table has it, the template does not declare it",
                "local index by-created: the table has it, the template does not declare it",
            ],
        );
    }

    #[test]
    fn the_billing_mode_must_be_the_templates_and_an_unreported_one_is_provisioned() {
        let expected = ["billing mode: the table bills PROVISIONED, the template \
                         PAY_PER_REQUEST; change one of them first"];
        check(
            |table, _| table["Table"]["BillingModeSummary"]["BillingMode"] = json!("PROVISIONED"),
            &expected,
        );
        check(
            |table, _| {
                table["Table"]
                    .as_object_mut()
                    .unwrap()
                    .remove("BillingModeSummary");
            },
            &expected,
        );
    }

    #[test]
    fn point_in_time_recovery_must_be_on_and_the_message_says_how() {
        let expected = [format!(
            "point-in-time recovery is DISABLED on {NAME}; turn it on first: aws dynamodb \
             update-continuous-backups --table-name {NAME} \
             --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true"
        )];
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        check(
            |_, recovery| {
                recovery["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"] =
                    json!({"PointInTimeRecoveryStatus": "DISABLED"});
            },
            &expected,
        );
        check(
            |_, recovery| {
                recovery["ContinuousBackupsDescription"]
                    .as_object_mut()
                    .unwrap()
                    .remove("PointInTimeRecoveryDescription");
            },
            &expected,
        );
    }

    #[test]
    fn every_difference_is_reported_at_once() {
        check(
            |table, recovery| {
                table["Table"]["BillingModeSummary"]["BillingMode"] = json!("PROVISIONED");
                table["Table"]["AttributeDefinitions"][1]["AttributeType"] = json!("B");
                global_index(table, STATUS_INDEX.name)["Projection"]["ProjectionType"] = json!("KEYS_ONLY");
                recovery["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
                    ["PointInTimeRecoveryStatus"] = json!("DISABLED");
            },
            &[
                "attribute taskArn: the table has B, the template S",
                "index status-createdAt-index projection: the table has KEYS_ONLY, the template ALL",
                "billing mode: the table bills PROVISIONED, the template PAY_PER_REQUEST; change one of them first",
                &format!(
                    "point-in-time recovery is DISABLED on {NAME}; turn it on first: aws dynamodb \
                     update-continuous-backups --table-name {NAME} \
                     --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true"
                ),
            ],
        );
    }

    #[test]
    fn an_answer_that_is_not_a_table_is_unreadable() {
        let what = |error: SynthError| match error {
            SynthError::Parse { what, .. } => what,
            other => panic!("not a parse error: {other}"),
        };
        let error = TableShape::from_aws(&json!({"TableNames": []}), &backups()).unwrap_err();
        assert_eq!(what(error), "describe-table's answer");
        let error = TableShape::from_aws(&described(), &json!({})).unwrap_err();
        assert_eq!(what(error), "describe-continuous-backups' answer");
    }
}
