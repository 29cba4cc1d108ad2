//! Finding the dispatch a stopped task belongs to, from the event alone.
//!
//! Every place an event can carry the ID is read; they must agree. When none holds one,
//! the callback falls back to the `task_arn-index` GSI (see `dispatch_aws::table`).

use std::fmt;

use contract::dispatch_id::{ENV_NAME, GROUP_PREFIX, TAG_KEY};

use crate::error::Invalid;
use crate::event::EcsTaskDetail;

/// The longest dispatch ID we accept; anything longer is not one of ours.
pub const MAX_LEN: usize = 256;

/// A checked dispatch ID: not blank, at most [`MAX_LEN`] characters, no control characters,
/// no leading or trailing whitespace (which would only ever fail later as "not found").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DispatchId(String);

/// Where a dispatch ID came from; logged, so on-call can see how a task was matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    ContainerEnvironment,
    TaskGroup,
    TaskTag,
    TaskArnIndex,
}

impl DispatchId {
    /// Checks `raw`, naming where it came from (a [`Source`], or the index that listed it)
    /// in the error so a bad dispatcher is easy to find.
    pub fn parse(raw: &str, source: impl fmt::Display) -> Result<Self, Invalid> {
        let invalid = |why: &str| Invalid(format!("invalid dispatch ID from {source}: {why}"));
        if raw.trim().is_empty() {
            return Err(invalid("it is empty"));
        }
        if raw.trim() != raw {
            return Err(invalid(&format!(
                "{raw:?} has leading or trailing whitespace"
            )));
        }
        if raw.chars().count() > MAX_LEN {
            return Err(invalid(&format!("it is longer than {MAX_LEN} characters")));
        }
        if raw.chars().any(char::is_control) {
            return Err(invalid(&format!("{raw:?} contains control characters")));
        }
        Ok(DispatchId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::ContainerEnvironment => "containerOverrides DISPATCH_ID",
            Source::TaskGroup => "task group",
            Source::TaskTag => "dispatch_id tag",
            Source::TaskArnIndex => contract::table::TASK_ARN_INDEX.name,
        })
    }
}

/// The dispatch ID the event itself carries, if any: `DISPATCH_ID` in a container's
/// override environment, a `dispatch:<id>` group, or a `dispatch_id` tag. The source
/// reported is the first of these that holds it.
///
/// Every place is read. A place that holds a bad ID is an error, not a reason to look
/// further, and two places that disagree are an error too: either is a dispatcher bug,
/// and settling a guessed dispatch could settle the wrong one. The same ID in several
/// places is fine.
pub fn from_event(detail: &EcsTaskDetail) -> Result<Option<(DispatchId, Source)>, Invalid> {
    use Source::{ContainerEnvironment, TaskGroup, TaskTag};
    let environment = detail.container_overrides().iter().flat_map(|container| {
        let name = container.name.as_deref().unwrap_or("?");
        let place = format!("{ENV_NAME} of container override {name}");
        let pairs = container.environment.iter().flatten();
        pairs
            .filter(|pair| pair.name.as_deref() == Some(ENV_NAME))
            .map(move |pair| (pair.value.as_deref(), ContainerEnvironment, place.clone()))
    });
    let group = detail.group.as_deref().and_then(|group| {
        let id = group.strip_prefix(GROUP_PREFIX)?;
        Some((Some(id), TaskGroup, format!("task group {group:?}")))
    });
    let tags = detail.tags.iter().flatten();
    let tags = tags
        .filter(|tag| tag.key.as_deref() == Some(TAG_KEY))
        .map(|tag| (tag.value.as_deref(), TaskTag, format!("{TAG_KEY} tag")));

    let mut first: Option<(DispatchId, Source, String)> = None;
    for (raw, source, place) in environment.chain(group).chain(tags) {
        let id = DispatchId::parse(raw.unwrap_or_default(), source)?;
        match &first {
            None => first = Some((id, source, place)),
            Some((chosen, _, chosen_place)) if *chosen != id => {
                return Err(Invalid(format!(
                    "conflicting dispatch IDs: {chosen_place} says {chosen:?}, \
                     {place} says {id:?}; nothing was written",
                    chosen = chosen.as_str(),
                    id = id.as_str(),
                )));
            }
            Some(_) => {}
        }
    }
    Ok(first.map(|(id, source, _)| (id, source)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn detail(value: serde_json::Value) -> EcsTaskDetail {
        serde_json::from_value(value).unwrap()
    }

    /// One row: the detail, then the expected ID and source, or the expected error text.
    fn check(detail_json: serde_json::Value, expected: Result<Option<(&str, Source)>, &str>) {
        let actual = from_event(&detail(detail_json.clone()));
        match (actual, expected) {
            (Ok(found), Ok(want)) => assert_eq!(
                found.as_ref().map(|(id, source)| (id.as_str(), *source)),
                want,
                "{detail_json}"
            ),
            (Err(err), Err(want)) => {
                assert!(
                    err.to_string().contains(want),
                    "{err} does not contain {want}"
                )
            }
            (actual, expected) => panic!("{detail_json}: got {actual:?}, want {expected:?}"),
        }
    }

    fn env(name: &str, value: &str) -> serde_json::Value {
        json!({"overrides": {"containerOverrides": [
            {"name": "sidecar"},
            {"name": "worker", "environment": [{"name": name, "value": value}]}
        ]}})
    }

    #[test]
    fn sources_in_order() {
        use Source::*;
        check(
            env("DISPATCH_ID", "d-1"),
            Ok(Some(("d-1", ContainerEnvironment))),
        );
        check(env("OTHER", "d-1"), Ok(None));
        check(
            json!({"group": "dispatch:d-2"}),
            Ok(Some(("d-2", TaskGroup))),
        );
        check(json!({"group": "family:worker"}), Ok(None));
        check(
            json!({"tags": [{"key": "team", "value": "x"}, {"key": "dispatch_id", "value": "d-3"}]}),
            Ok(Some(("d-3", TaskTag))),
        );
        check(json!({}), Ok(None));
        check(json!({"overrides": {}, "containers": []}), Ok(None));
        // The same ID in several places is one ID, from the first place present.
        let mut all = env("DISPATCH_ID", "d-1");
        all["group"] = json!("dispatch:d-1");
        all["tags"] = json!([{"key": "dispatch_id", "value": "d-1"}]);
        check(all, Ok(Some(("d-1", ContainerEnvironment))));
        check(
            json!({"group": "dispatch:d-2", "tags": [{"key": "dispatch_id", "value": "d-2"}]}),
            Ok(Some(("d-2", TaskGroup))),
        );
    }

    #[test]
    fn places_that_disagree_are_an_error_naming_both() {
        let mut env_and_group = env("DISPATCH_ID", "from-env");
        env_and_group["group"] = json!("dispatch:from-group");
        check(
            env_and_group,
            Err(
                "DISPATCH_ID of container override worker says \"from-env\", \
                 task group \"dispatch:from-group\" says \"from-group\"",
            ),
        );
        check(
            json!({"overrides": {"containerOverrides": [
                {"name": "worker", "environment": [{"name": "DISPATCH_ID", "value": "a"}]},
                {"name": "sidecar", "environment": [{"name": "DISPATCH_ID", "value": "b"}]}
            ]}}),
            Err("container override worker says \"a\", DISPATCH_ID of container override sidecar says \"b\""),
        );
        check(
            json!({"group": "dispatch:g", "tags": [{"key": "dispatch_id", "value": "t"}]}),
            Err("task group \"dispatch:g\" says \"g\", dispatch_id tag says \"t\""),
        );
        // A bad ID anywhere fails, even after a good one.
        let mut good_then_bad = env("DISPATCH_ID", "d-1");
        good_then_bad["group"] = json!("dispatch:");
        check(good_then_bad, Err("from task group: it is empty"));
    }

    #[test]
    fn bad_ids_are_errors() {
        check(env("DISPATCH_ID", ""), Err("it is empty"));
        check(
            json!({"group": "dispatch:"}),
            Err("from task group: it is empty"),
        );
        check(env("DISPATCH_ID", "a\nb"), Err("control characters"));
        check(env("DISPATCH_ID", "  "), Err("it is empty"));
        check(
            json!({"group": "dispatch: d-1"}),
            Err("leading or trailing whitespace"),
        );
        check(
            env("DISPATCH_ID", "d-1 "),
            Err("leading or trailing whitespace"),
        );
        check(env("DISPATCH_ID", &"x".repeat(257)), Err("longer than 256"));
        check(
            env("DISPATCH_ID", &"é".repeat(256)),
            Ok(Some((&"é".repeat(256), Source::ContainerEnvironment))),
        );
    }
}
