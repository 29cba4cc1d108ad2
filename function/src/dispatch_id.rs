//! Finding the dispatch a stopped task belongs to, from the event alone.
//!
//! The sources are tried in a fixed order and the first one present wins. When none is
//! present, the handler falls back to the `task_arn-index` GSI (see `store`).

use std::fmt;

use contract::dispatch_id::{ENV_NAME, GROUP_PREFIX, TAG_KEY};

use crate::error::CallbackError;
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
    /// Checks `raw`, naming `source` in the error so a bad dispatcher is easy to find.
    pub fn parse(raw: &str, source: Source) -> Result<Self, CallbackError> {
        let invalid = |why: &str| {
            CallbackError::Validation(format!("invalid dispatch ID from {source}: {why}"))
        };
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

impl fmt::Display for DispatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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

/// The dispatch ID the event itself carries, if any: `DISPATCH_ID` in any container's
/// override environment, then a `dispatch:<id>` group, then a `dispatch_id` tag.
/// A source that is present but holds a bad ID is an error, not a reason to look further:
/// a dispatcher bug must show, not be papered over by a weaker source.
pub fn from_event(detail: &EcsTaskDetail) -> Result<Option<(DispatchId, Source)>, CallbackError> {
    let from_environment = detail
        .container_overrides()
        .iter()
        .flat_map(|container| container.environment.as_deref().unwrap_or_default())
        .find(|pair| pair.name.as_deref() == Some(ENV_NAME))
        .map(|pair| {
            (
                pair.value.as_deref().unwrap_or_default(),
                Source::ContainerEnvironment,
            )
        });

    let from_group = || {
        detail
            .group
            .as_deref()
            .and_then(|group| group.strip_prefix(GROUP_PREFIX))
            .map(|id| (id, Source::TaskGroup))
    };

    let from_tag = || {
        detail
            .tags
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|tag| tag.key.as_deref() == Some(TAG_KEY))
            .map(|tag| (tag.value.as_deref().unwrap_or_default(), Source::TaskTag))
    };

    from_environment
        .or_else(from_group)
        .or_else(from_tag)
        .map(|(raw, source)| DispatchId::parse(raw, source).map(|id| (id, source)))
        .transpose()
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
        // The environment wins over the group, the group over a tag.
        let mut all = env("DISPATCH_ID", "from-env");
        all["group"] = json!("dispatch:from-group");
        all["tags"] = json!([{"key": "dispatch_id", "value": "from-tag"}]);
        check(all, Ok(Some(("from-env", ContainerEnvironment))));
        check(
            json!({"group": "dispatch:from-group", "tags": [{"key": "dispatch_id", "value": "t"}]}),
            Ok(Some(("from-group", TaskGroup))),
        );
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
