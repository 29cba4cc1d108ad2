//! The names of the stack's resources, read from its outputs: the tool works on any stack
//! this repository deployed, whatever it was named.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use contract::outputs::{self, Output};
use dispatch::task_arn::Watched;

use crate::error::{aws, OpsError, Result};
use crate::progress::Progress;

/// Every resource the subcommands use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    pub stack: String,
    pub table: String,
    pub function: String,
    pub log_group: String,
    pub rule: String,
    pub failure_queue_url: String,
    pub dead_letter_queue_url: String,
    pub reconciler: String,
    pub reconciler_log_group: String,
    pub reconciler_schedule: String,
    /// The stack's alarms, by name: those it lists with a physical ID.
    pub alarms: Vec<String>,
    /// Resources the stack lists without a logical ID or type (which AWS always gives),
    /// or alarms it lists without a physical ID: whether they are alarms, or which, cannot
    /// be told, so `health` says its alarms could not all be checked.
    pub unnamed_resources: usize,
}

/// What the stack says of itself: its outputs, its resources, and what says where and
/// since when it runs.
#[derive(Clone, Debug, Default)]
pub struct Described {
    pub outputs: BTreeMap<String, String>,
    pub resources: Vec<Resource>,
    /// `arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/NAME/ID`.
    pub stack_id: Option<String>,
    /// Its parameters' values, by key.
    pub parameters: BTreeMap<String, String>,
    /// When it was created, or last updated if later ([`deployed_at`]).
    pub deployed_at: Option<DateTime<Utc>>,
}

/// One resource of the stack.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resource {
    pub logical_id: String,
    pub kind: String,
    /// Empty when the stack does not name it (a resource not created, or not listed as
    /// AWS lists it).
    pub physical_id: String,
}

impl Resource {
    /// Listed without what tells whether it is an alarm, or without the alarm's name.
    fn unnamed(&self) -> bool {
        self.logical_id.is_empty()
            || self.kind.is_empty()
            || (self.kind == ALARM && self.physical_id.is_empty())
    }
}

const ALARM: &str = "AWS::CloudWatch::Alarm";

/// Finds every name in `described`, each in its output (AWS gives a stack's outputs once it
/// is deployed). The alarms are the alarm resources the stack names; nothing is assumed of
/// those it does not name.
pub fn names(stack: &str, described: &Described) -> Result<Names, OpsError> {
    let outputs = &described.outputs;
    let find = |Output { key, .. }| {
        let name = outputs.get(key).filter(|name| !name.is_empty()).cloned();
        name.ok_or_else(|| OpsError::Stack {
            stack: stack.to_owned(),
            message: format!("no output {key}: is this a stack `make deploy` created?"),
        })
    };
    let mut alarms: Vec<String> = described
        .resources
        .iter()
        .filter(|r| r.kind == ALARM && !r.physical_id.is_empty())
        .map(|r| r.physical_id.clone())
        .collect();
    alarms.sort();
    Ok(Names {
        stack: stack.to_owned(),
        table: find(outputs::TABLE_NAME)?,
        function: find(outputs::FUNCTION_NAME)?,
        log_group: find(outputs::LOG_GROUP_NAME)?,
        rule: find(outputs::RULE_NAME)?,
        failure_queue_url: find(outputs::FAILURE_QUEUE_URL)?,
        dead_letter_queue_url: find(outputs::DEAD_LETTER_QUEUE_URL)?,
        reconciler: find(outputs::RECONCILER_FUNCTION_NAME)?,
        reconciler_log_group: find(outputs::RECONCILER_LOG_GROUP_NAME)?,
        reconciler_schedule: find(outputs::RECONCILER_SCHEDULE_NAME)?,
        alarms,
        unnamed_resources: described.resources.iter().filter(|r| r.unnamed()).count(),
    })
}

/// The stack's `ClusterArn` parameter, which says which clusters it watches.
pub const CLUSTER_ARN: &str = "ClusterArn";

/// The `ClusterArn` that watches every cluster of the stack's account and region.
const ANY_CLUSTER: &str = "*";

/// The clusters the stack watches, worked out as the template renders its reconciler's
/// `WATCHED_CLUSTER` from `ClusterArn` (empty: the default cluster of the stack's
/// partition, region and account; `*`: every cluster of them; else the ARN given), so no
/// further call is needed. A stack that does not list the parameter is taken to watch
/// every cluster of its region and account: nothing is assumed of which one. `None` when
/// its ID or the parameter cannot be read. Pure.
pub fn watched(stack_id: &str, cluster_arn: Option<&str>) -> Option<Watched> {
    // arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/NAME/ID
    let mut parts = stack_id.splitn(6, ':');
    let (prefix, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    let (region, account) = (parts.next()?, parts.next()?);
    if prefix != "arn" || service != "cloudformation" {
        return None;
    }
    let scope = format!("arn:{partition}:ecs:{region}:{account}:cluster");
    let arn = match cluster_arn {
        Some("") => format!("{scope}/{}", contract::resources::DEFAULT_CLUSTER),
        Some(ANY_CLUSTER) => format!("{scope}/*"),
        Some(arn) => arn.to_owned(),
        None => format!("{scope}/*"),
    };
    Watched::parse(&arn)
}

/// When the stack was last deployed: created, or updated since. An update counts: it
/// can be what enabled the reconciler's schedule, changed its period or replaced the
/// function, so no run may have followed yet; and a broken update is still called off
/// once two schedule periods have passed. Pure.
pub fn deployed_at(
    created: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    created.max(updated)
}

/// Reads the stack's outputs, parameters, ID, times and resources.
pub async fn describe(
    client: &aws_sdk_cloudformation::Client,
    stack: &str,
    progress: Progress,
) -> Result<Described> {
    progress.step(&format!("reading stack {stack}"));
    let stacks = client
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(aws("DescribeStacks", stack))?;
    let mut described = Described::default();
    for output in stacks.stacks().iter().flat_map(|s| s.outputs()) {
        if let (Some(key), Some(value)) = (output.output_key(), output.output_value()) {
            described.outputs.insert(key.to_owned(), value.to_owned());
        }
    }
    for parameter in stacks.stacks().iter().flat_map(|s| s.parameters()) {
        if let (Some(key), Some(value)) = (parameter.parameter_key(), parameter.parameter_value()) {
            described
                .parameters
                .insert(key.to_owned(), value.to_owned());
        }
    }
    if let Some(stack) = stacks.stacks().first() {
        described.stack_id = stack.stack_id().map(str::to_owned);
        let at = |time: Option<&aws_smithy_types::DateTime>| {
            time.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
        };
        described.deployed_at =
            deployed_at(at(stack.creation_time()), at(stack.last_updated_time()));
    }
    let mut pages = client
        .list_stack_resources()
        .stack_name(stack)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(aws("ListStackResources", stack))?;
        let text = |value: Option<&str>| value.unwrap_or_default().to_owned();
        for resource in page.stack_resource_summaries() {
            described.resources.push(Resource {
                logical_id: text(resource.logical_resource_id()),
                kind: text(resource.resource_type()),
                physical_id: text(resource.physical_resource_id()),
            });
        }
    }
    Ok(described)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(triples: &[(&str, &str, &str)]) -> Vec<Resource> {
        triples
            .iter()
            .map(|(id, kind, physical)| Resource {
                logical_id: (*id).to_owned(),
                kind: (*kind).to_owned(),
                physical_id: (*physical).to_owned(),
            })
            .collect()
    }

    /// Every output the tool reads, each naming `name-of-KEY`.
    fn every_output() -> BTreeMap<String, String> {
        outputs::ALL
            .iter()
            .map(|output| (output.key.to_owned(), format!("name-of-{}", output.key)))
            .collect()
    }

    #[test]
    fn every_name_is_an_output_and_a_missing_output_is_an_error_naming_it() {
        let described = Described {
            outputs: every_output(),
            resources: resources(&[
                ("DispatchTable", "AWS::DynamoDB::Table", "from-resource"),
                ("CallbackErrorsAlarm", ALARM, "errors-alarm"),
            ]),
            ..Described::default()
        };
        let names = names("s", &described).unwrap();
        assert_eq!(names.table, "name-of-TableName");
        assert_eq!(names.function, "name-of-FunctionName");
        assert_eq!(names.alarms, ["errors-alarm"]);

        for missing in outputs::ALL {
            let mut described = described.clone();
            described.outputs.remove(missing.key);
            let err = super::names("my-stack", &described).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "stack my-stack: no output {}: is this a stack `make deploy` created?",
                    missing.key
                )
            );
        }
    }

    #[test]
    fn unnamed_resources_are_counted_never_named() {
        // A resource listed with neither logical nor physical ID nor type, and an alarm
        // listed without its name.
        let described = Described {
            outputs: every_output(),
            resources: resources(&[("", "", ""), ("CallbackErrorsAlarm", ALARM, "")]),
            ..Described::default()
        };
        let names = names("s", &described).unwrap();
        assert!(names.alarms.is_empty(), "no alarm name is made up");
        assert_eq!(names.unnamed_resources, 2);
    }

    #[test]
    fn the_watched_cluster_is_read_as_the_template_renders_it() {
        let id = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/0b9c";
        let cluster = |param| watched(id, param).map(|w| w.to_string());
        let default = "arn:aws:ecs:us-east-1:123456789012:cluster/outpost-dev";
        assert_eq!(cluster(Some("")).as_deref(), Some(default));
        let every = "arn:aws:ecs:us-east-1:123456789012:cluster/*";
        assert_eq!(cluster(Some("*")).as_deref(), Some(every));
        assert_eq!(cluster(None).as_deref(), Some(every), "nothing assumed");
        let given = "arn:aws:ecs:us-east-1:123456789012:cluster/batch";
        assert_eq!(cluster(Some(given)).as_deref(), Some(given));
        assert_eq!(watched("not a stack id", Some("")), None);
        assert_eq!(watched(id, Some("batch")), None, "not an ARN");
    }

    #[test]
    fn a_stack_is_deployed_when_created_or_updated_whichever_is_later() {
        let at = |secs| DateTime::from_timestamp(secs, 0);
        assert_eq!(deployed_at(at(100), None), at(100));
        assert_eq!(deployed_at(at(100), at(300)), at(300));
        assert_eq!(deployed_at(None, None), None);
    }
}
