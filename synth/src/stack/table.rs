//! The dispatch table: the only state of the system.

use contract::outputs;
use std::collections::BTreeSet;

use contract::table;

use crate::cfn::resources::dynamodb::{
    AttributeDefinition, AttributeType, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, PointInTimeRecoverySpecification, Projection, SseSpecification, Table,
};
use crate::cfn::{Attributes, CheckovSkip, Id, Template};
use crate::config::{Config, IndexConfig};

/// The table holds the only state of the system: it survives the stack's deletion and
/// any update that would replace it.
pub(super) fn add(template: &mut Template, config: &Config) -> Id<Table> {
    let attributes = Attributes::retained().checkov_skips([CheckovSkip {
        id: "CKV_AWS_119",
        comment: "Encrypted with the AWS managed key (SSEEnabled); dispatch records hold no \
                  secrets, so a customer managed key adds cost and key administration only.",
    }]);
    let id = outputs::TABLE_NAME.logical_id;
    template.add_with(id, dispatch_table(config), attributes)
}

/// The table's properties, as the template declares them. Test support creates the same
/// table in moto from this definition, so tests run against the deployed key schema.
pub fn dispatch_table(config: &Config) -> Table {
    let indexes = [&config.table.task_arn_index, &config.table.status_index];
    // Every attribute any key schema uses, once, and nothing else.
    let mut key_attributes = vec![table::PARTITION_KEY];
    for IndexConfig { index, .. } in indexes {
        key_attributes.extend(
            [Some(index.partition_key), index.sort_key]
                .into_iter()
                .flatten(),
        );
    }
    let mut seen = BTreeSet::new();
    key_attributes.retain(|name| seen.insert(*name));
    Table {
        table_name: table::NAME.to_owned(),
        billing_mode: BillingMode::PayPerRequest,
        attribute_definitions: key_attributes
            .into_iter()
            .map(|name| AttributeDefinition {
                attribute_name: name.to_owned(),
                attribute_type: AttributeType::S,
            })
            .collect(),
        key_schema: vec![key(table::PARTITION_KEY, KeyType::Hash)],
        global_secondary_indexes: indexes.into_iter().map(global_secondary_index).collect(),
        point_in_time_recovery_specification: PointInTimeRecoverySpecification {
            point_in_time_recovery_enabled: true,
        },
        deletion_protection_enabled: true,
        sse_specification: SseSpecification { sse_enabled: true },
    }
}

/// The reconciler's sweep table: where its walk of the status index keeps its place. It
/// is not retained: it holds no dispatch, and losing it loses only the place.
pub(super) fn add_sweep(template: &mut Template) -> Id<Table> {
    let attributes = Attributes::default().checkov_skips([CheckovSkip {
        id: "CKV_AWS_119",
        comment: "Encrypted with the AWS managed key (SSEEnabled); the sweep's place \
                  holds no secrets.",
    }]);
    template.add_with(table::sweep::LOGICAL_ID, sweep_table(), attributes)
}

/// The sweep table's properties, as the template declares them (test support creates the
/// same table): one item per status, keyed by it.
pub fn sweep_table() -> Table {
    Table {
        table_name: table::sweep::NAME.to_owned(),
        billing_mode: BillingMode::PayPerRequest,
        attribute_definitions: vec![AttributeDefinition {
            attribute_name: table::sweep::KEY.to_owned(),
            attribute_type: AttributeType::S,
        }],
        key_schema: vec![key(table::sweep::KEY, KeyType::Hash)],
        global_secondary_indexes: Vec::new(),
        // Costs nothing at a few items, and keeps the table like the other.
        point_in_time_recovery_specification: PointInTimeRecoverySpecification {
            point_in_time_recovery_enabled: true,
        },
        deletion_protection_enabled: false,
        sse_specification: SseSpecification { sse_enabled: true },
    }
}

fn key(attribute: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement {
        attribute_name: attribute.to_owned(),
        key_type,
    }
}

fn global_secondary_index(config: &IndexConfig) -> GlobalSecondaryIndex {
    let index = &config.index;
    let mut key_schema = vec![key(index.partition_key, KeyType::Hash)];
    key_schema.extend(index.sort_key.map(|sort_key| key(sort_key, KeyType::Range)));
    GlobalSecondaryIndex {
        index_name: index.name.to_owned(),
        key_schema,
        projection: Projection {
            projection_type: config.projection,
        },
    }
}
