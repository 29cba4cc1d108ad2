//! The adoption's pre-checks on the running table: before an IMPORT change set brings the
//! table into the stack, its definition must be the template's. An import cannot change a
//! key or an index (a later deploy that did would replace the table, and with it every
//! record), so the key schema, the key attributes' types, every index with its key schema
//! and projection, and the billing mode are compared; point-in-time recovery must be on
//! before anything is changed, so that the migration can always be undone to the second.
//!
//! CloudFormation's table properties and DynamoDB's `DescribeTable` answer spell the key
//! schema, the attribute definitions and the indexes alike, so one reader serves both; the
//! billing mode and point-in-time recovery are spelled apart and read apart. The
//! comparison is a pure function of the two readings and reports every difference at once,
//! so one run of `make adopt` lists all that must change before the next.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::config::Config;
use crate::SynthError;

/// What `DescribeTable` reports when it reports no billing mode: a table that has been
/// provisioned since before billing-mode summaries existed has none.
const UNREPORTED_BILLING_MODE: &str = "PROVISIONED";

/// One element of a key schema: an attribute and its role (`HASH` or `RANGE`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Key {
    pub attribute_name: String,
    pub key_type: String,
}

/// What an index copies from the table.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    pub projection_type: String,
    /// Only for `INCLUDE`; kept sorted, since their order means nothing.
    #[serde(default)]
    pub non_key_attributes: BTreeSet<String>,
}

/// An index as the pre-checks compare it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexShape {
    pub key_schema: Vec<Key>,
    pub projection: Projection,
}

/// Which kind of secondary index a difference is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexKind {
    Global,
    Local,
}

/// The parts of a table that the adoption relies on, read from the template or from AWS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableShape {
    pub name: String,
    pub key_schema: Vec<Key>,
    /// Every attribute a key uses, with its scalar type (`S`, `N`, `B`).
    pub attribute_types: BTreeMap<String, String>,
    pub global_indexes: BTreeMap<String, IndexShape>,
    pub local_indexes: BTreeMap<String, IndexShape>,
    pub billing_mode: String,
    pub point_in_time_recovery: bool,
}

/// The part both documents spell alike.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Definition {
    table_name: String,
    key_schema: Vec<Key>,
    attribute_definitions: Vec<AttributeDefinition>,
    #[serde(default)]
    global_secondary_indexes: Vec<IndexDefinition>,
    #[serde(default)]
    local_secondary_indexes: Vec<IndexDefinition>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeDefinition {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IndexDefinition {
    index_name: String,
    key_schema: Vec<Key>,
    projection: Projection,
}

/// The template's table properties beyond the shared part.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TemplateSettings {
    billing_mode: String,
    #[serde(default)]
    point_in_time_recovery_specification: Option<PointInTimeRecoverySpecification>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PointInTimeRecoverySpecification {
    point_in_time_recovery_enabled: bool,
}

/// `aws dynamodb describe-table`'s answer, beyond the shared part.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Described {
    table: DescribedSettings,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribedSettings {
    #[serde(default)]
    billing_mode_summary: Option<BillingModeSummary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BillingModeSummary {
    billing_mode: String,
}

/// `aws dynamodb describe-continuous-backups`'s answer.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContinuousBackups {
    continuous_backups_description: ContinuousBackupsDescription,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContinuousBackupsDescription {
    /// Absent on a table whose recovery was never configured: off.
    #[serde(default)]
    point_in_time_recovery_description: Option<PointInTimeRecoveryDescription>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PointInTimeRecoveryDescription {
    point_in_time_recovery_status: String,
}

/// Why a document could not be read as a table: which document, and serde's reason.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} is not what it should be: {reason}")]
pub struct Unreadable {
    pub what: &'static str,
    pub reason: String,
}

fn read<T: for<'de> Deserialize<'de>>(what: &'static str, value: &Value) -> Result<T, Unreadable> {
    T::deserialize(value).map_err(|err| Unreadable {
        what,
        reason: err.to_string(),
    })
}

impl TableShape {
    /// The table a template declares, from its `Properties`.
    pub fn from_template(properties: &Value) -> Result<TableShape, Unreadable> {
        const WHAT: &str = "the template's table";
        let definition: Definition = read(WHAT, properties)?;
        let settings: TemplateSettings = read(WHAT, properties)?;
        Ok(TableShape::new(
            definition,
            settings.billing_mode,
            settings
                .point_in_time_recovery_specification
                .is_some_and(|pitr| pitr.point_in_time_recovery_enabled),
        ))
    }

    /// The running table, from what `aws dynamodb describe-table` and
    /// `aws dynamodb describe-continuous-backups` print (`--output json`).
    pub fn from_aws(
        describe_table: &Value,
        continuous_backups: &Value,
    ) -> Result<TableShape, Unreadable> {
        const TABLE: &str = "describe-table's answer";
        let definition: Definition = read(TABLE, &describe_table["Table"])?;
        let described: Described = read(TABLE, describe_table)?;
        let backups: ContinuousBackups =
            read("describe-continuous-backups' answer", continuous_backups)?;
        let billing_mode = described.table.billing_mode_summary.map_or_else(
            || UNREPORTED_BILLING_MODE.to_owned(),
            |summary| summary.billing_mode,
        );
        let point_in_time_recovery = backups
            .continuous_backups_description
            .point_in_time_recovery_description
            .is_some_and(|description| description.point_in_time_recovery_status == "ENABLED");
        Ok(TableShape::new(
            definition,
            billing_mode,
            point_in_time_recovery,
        ))
    }

    fn new(
        definition: Definition,
        billing_mode: String,
        point_in_time_recovery: bool,
    ) -> TableShape {
        let indexes = |list: Vec<IndexDefinition>| {
            list.into_iter()
                .map(|index| {
                    let shape = IndexShape {
                        key_schema: index.key_schema,
                        projection: index.projection,
                    };
                    (index.index_name, shape)
                })
                .collect()
        };
        TableShape {
            name: definition.table_name,
            key_schema: definition.key_schema,
            attribute_types: definition
                .attribute_definitions
                .into_iter()
                .map(|attribute| (attribute.attribute_name, attribute.attribute_type))
                .collect(),
            global_indexes: indexes(definition.global_secondary_indexes),
            local_indexes: indexes(definition.local_secondary_indexes),
            billing_mode,
            point_in_time_recovery,
        }
    }
}

/// `synth adopt check --table FILE --continuous-backups FILE`: compares the running table
/// (the two files hold `describe-table`'s and `describe-continuous-backups`' answers) with
/// the template's. Prints a line for each aspect that agrees, every difference on standard
/// error, and returns whether they all agree.
pub fn show(describe_table: &Path, continuous_backups: &Path) -> Result<bool, SynthError> {
    let unreadable = |err: Unreadable| SynthError::Parse {
        what: err.what.to_owned(),
        reason: err.reason,
    };
    let template = serde_json::to_value(crate::stack::table::dispatch_table(&Config::runbook()))
        .expect("the table serializes");
    let template = TableShape::from_template(&template).map_err(unreadable)?;
    let running = TableShape::from_aws(
        &super::read_json(describe_table)?,
        &super::read_json(continuous_backups)?,
    )
    .map_err(unreadable)?;
    let found = compare(&template, &running);
    for line in &found.agreed {
        println!("  ok: {} {line}", running.name);
    }
    for difference in &found.differences {
        eprintln!("adopt: table {}: {difference}", running.name);
    }
    if !found.differences.is_empty() {
        eprintln!(
            "adopt: the table {} is not the template's (above): nothing was changed",
            running.name
        );
    }
    Ok(found.differences.is_empty())
}

/// One way the running table is not the template's. Each says which side has what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Difference {
    Name {
        table: String,
        template: String,
    },
    KeySchema {
        table: Vec<Key>,
        template: Vec<Key>,
    },
    /// `None` on the side that does not define the attribute.
    AttributeType {
        attribute: String,
        table: Option<String>,
        template: Option<String>,
    },
    /// The template declares the index; the table does not have it.
    IndexMissing {
        kind: IndexKind,
        name: String,
    },
    /// The table has an index the template does not declare.
    IndexUndeclared {
        kind: IndexKind,
        name: String,
    },
    IndexKeySchema {
        kind: IndexKind,
        name: String,
        table: Vec<Key>,
        template: Vec<Key>,
    },
    IndexProjection {
        kind: IndexKind,
        name: String,
        table: Projection,
        template: Projection,
    },
    BillingMode {
        table: String,
        template: String,
    },
    /// `table_name` is for the command that turns recovery on.
    PointInTimeRecovery {
        table_name: String,
        table: bool,
        template: bool,
    },
}

/// What [`compare`] found: a line for each aspect that agrees (what `make adopt` shows as
/// `ok`), and every difference.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub agreed: Vec<String>,
    pub differences: Vec<Difference>,
}

/// Compares the running table with the template's: key schema, attribute types, global and
/// local indexes (key schema and projection), billing mode, point-in-time recovery.
pub fn compare(template: &TableShape, table: &TableShape) -> Comparison {
    let mut found = Comparison::default();
    if table.name != template.name {
        found.differences.push(Difference::Name {
            table: table.name.clone(),
            template: template.name.clone(),
        });
    }
    if table.key_schema == template.key_schema {
        found
            .agreed
            .push(format!("key schema {}", Keys(&table.key_schema)));
    } else {
        found.differences.push(Difference::KeySchema {
            table: table.key_schema.clone(),
            template: template.key_schema.clone(),
        });
    }
    compare_attribute_types(template, table, &mut found);
    compare_indexes(
        IndexKind::Global,
        &template.global_indexes,
        &table.global_indexes,
        &mut found,
    );
    compare_indexes(
        IndexKind::Local,
        &template.local_indexes,
        &table.local_indexes,
        &mut found,
    );
    if table.billing_mode == template.billing_mode {
        found
            .agreed
            .push(format!("billing mode {}", table.billing_mode));
    } else {
        found.differences.push(Difference::BillingMode {
            table: table.billing_mode.clone(),
            template: template.billing_mode.clone(),
        });
    }
    if table.point_in_time_recovery == template.point_in_time_recovery {
        found.agreed.push(format!(
            "point-in-time recovery {}",
            Recovery(table.point_in_time_recovery)
        ));
    } else {
        found.differences.push(Difference::PointInTimeRecovery {
            table_name: table.name.clone(),
            table: table.point_in_time_recovery,
            template: template.point_in_time_recovery,
        });
    }
    found
}

fn compare_attribute_types(template: &TableShape, table: &TableShape, found: &mut Comparison) {
    let names: BTreeSet<&String> = template
        .attribute_types
        .keys()
        .chain(table.attribute_types.keys())
        .collect();
    let before = found.differences.len();
    for name in names {
        let (ours, theirs) = (
            template.attribute_types.get(name),
            table.attribute_types.get(name),
        );
        if ours != theirs {
            found.differences.push(Difference::AttributeType {
                attribute: name.clone(),
                table: theirs.cloned(),
                template: ours.cloned(),
            });
        }
    }
    if found.differences.len() == before {
        let types: Vec<String> = table
            .attribute_types
            .iter()
            .map(|(name, kind)| format!("{name} {kind}"))
            .collect();
        found
            .agreed
            .push(format!("key attribute types {}", types.join(", ")));
    }
}

fn compare_indexes(
    kind: IndexKind,
    template: &BTreeMap<String, IndexShape>,
    table: &BTreeMap<String, IndexShape>,
    found: &mut Comparison,
) {
    for (name, ours) in template {
        let Some(theirs) = table.get(name) else {
            found.differences.push(Difference::IndexMissing {
                kind,
                name: name.clone(),
            });
            continue;
        };
        let mut same = true;
        if theirs.key_schema != ours.key_schema {
            same = false;
            found.differences.push(Difference::IndexKeySchema {
                kind,
                name: name.clone(),
                table: theirs.key_schema.clone(),
                template: ours.key_schema.clone(),
            });
        }
        if theirs.projection != ours.projection {
            same = false;
            found.differences.push(Difference::IndexProjection {
                kind,
                name: name.clone(),
                table: theirs.projection.clone(),
                template: ours.projection.clone(),
            });
        }
        if same {
            found.agreed.push(format!(
                "{kind} {name}: {}, projection {}",
                Keys(&theirs.key_schema),
                Projected(&theirs.projection)
            ));
        }
    }
    for name in table.keys().filter(|name| !template.contains_key(*name)) {
        found.differences.push(Difference::IndexUndeclared {
            kind,
            name: name.clone(),
        });
    }
}

/// A key schema as a person reads it: `status (HASH), createdAt (RANGE)`.
struct Keys<'a>(&'a [Key]);

impl fmt::Display for Keys<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no key");
        }
        let keys: Vec<String> = self
            .0
            .iter()
            .map(|key| format!("{} ({})", key.attribute_name, key.key_type))
            .collect();
        f.write_str(&keys.join(", "))
    }
}

/// A projection: `ALL`, `KEYS_ONLY`, `INCLUDE (a, b)`.
struct Projected<'a>(&'a Projection);

impl fmt::Display for Projected<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.projection_type)?;
        if !self.0.non_key_attributes.is_empty() {
            let names: Vec<&str> = self
                .0
                .non_key_attributes
                .iter()
                .map(String::as_str)
                .collect();
            write!(f, " ({})", names.join(", "))?;
        }
        Ok(())
    }
}

/// Point-in-time recovery as DynamoDB reports it.
struct Recovery(bool);

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0 { "ENABLED" } else { "DISABLED" })
    }
}

impl fmt::Display for IndexKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IndexKind::Global => "index",
            IndexKind::Local => "local index",
        })
    }
}

/// An attribute's type, or that the side does not define it.
struct Defined<'a>(&'a Option<String>);

impl fmt::Display for Defined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(kind) => f.write_str(kind),
            None => f.write_str("not defined"),
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Name { table, template } => {
                write!(f, "the table is named {table}, the template's {template}")
            }
            Difference::KeySchema { table, template } => write!(
                f,
                "key schema: the table has {}, the template {}; an import cannot change a key",
                Keys(table),
                Keys(template)
            ),
            Difference::AttributeType {
                attribute,
                table,
                template,
            } => write!(
                f,
                "attribute {attribute}: the table has {}, the template {}",
                Defined(table),
                Defined(template)
            ),
            Difference::IndexMissing { kind, name } => write!(
                f,
                "{kind} {name}: the template declares it, the table does not have it"
            ),
            Difference::IndexUndeclared { kind, name } => write!(
                f,
                "{kind} {name}: the table has it, the template does not declare it"
            ),
            Difference::IndexKeySchema {
                kind,
                name,
                table,
                template,
            } => write!(
                f,
                "{kind} {name} key schema: the table has {}, the template {}",
                Keys(table),
                Keys(template)
            ),
            Difference::IndexProjection {
                kind,
                name,
                table,
                template,
            } => write!(
                f,
                "{kind} {name} projection: the table has {}, the template {}",
                Projected(table),
                Projected(template)
            ),
            Difference::BillingMode { table, template } => write!(
                f,
                "billing mode: the table bills {table}, the template {template}; change one of them first"
            ),
            Difference::PointInTimeRecovery {
                table_name,
                table: false,
                template: true,
            } => write!(
                f,
                "point-in-time recovery is DISABLED on {table_name}; turn it on first: \
                 aws dynamodb update-continuous-backups --table-name {table_name} \
                 --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true"
            ),
            Difference::PointInTimeRecovery {
                table_name,
                table,
                template,
            } => write!(
                f,
                "point-in-time recovery is {} on {table_name}, the template has it {}",
                Recovery(*table),
                Recovery(*template)
            ),
        }
    }
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
            .iter()
            .map(ToString::to_string)
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
        let error = TableShape::from_aws(&json!({"TableNames": []}), &backups()).unwrap_err();
        assert_eq!(error.what, "describe-table's answer");
        let error = TableShape::from_aws(&described(), &json!({})).unwrap_err();
        assert_eq!(error.what, "describe-continuous-backups' answer");
    }
}
