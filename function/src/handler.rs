//! One invocation: read the event, find the dispatch, then settle it (see `settle`).

use chrono::{DateTime, Utc};
use contract::logs;
use dispatch::dispatch_id::DispatchId;
use dispatch::event::{classify, Classified, Ignored, StoppedTask};
use dispatch::outcome::{Outcome, SkipReason};
use dispatch_aws::settle::{find_dispatch, settle};
use dispatch_aws::table::DispatchStore;
use tracing::{field, info, Instrument, Span};

use crate::config::Config;
use crate::error::CallbackError;
use crate::metrics::{InvocationMetrics, MetricsSink, Tally};

/// What an invocation needs, built once during init and lent to every invocation.
#[derive(Clone, Debug)]
pub struct Deps<S> {
    pub store: S,
    pub metrics: MetricsSink,
    pub config: Config,
}

/// Handles one invocation as Lambda delivers it: processes the event, then publishes its
/// metrics. Every log line inside carries the dispatch ID and task ARN once they are known.
pub async fn handle<S: DispatchStore>(
    payload: serde_json::Value,
    request_id: &str,
    deps: &Deps<S>,
) -> Result<Outcome, CallbackError> {
    let span = tracing::info_span!(
        "dispatch",
        dispatch_id = field::Empty,
        task_arn = field::Empty
    );
    async {
        let result = process(payload, &deps.store, &deps.config, request_id, Utc::now()).await;
        let metrics = invocation_metrics(&result, Utc::now());
        if let Err(err) = &result {
            tracing::error!(error_type = %err.error_type(), error = %err, "{}", logs::DISPATCH_UPDATE_FAILED);
        }
        deps.metrics
            .publish(&metrics, &deps.config.function_name)
            .await;
        result
    }
    .instrument(span)
    .await
}

/// The figures an invocation's result stands for.
pub fn invocation_metrics(
    result: &Result<Outcome, CallbackError>,
    now: DateTime<Utc>,
) -> InvocationMetrics {
    match result {
        Ok(Outcome::Updated {
            dispatch_id,
            task_arn,
            stopped_at,
            corrected,
            ..
        }) => InvocationMetrics {
            tally: if *corrected {
                Tally::Corrected
            } else {
                Tally::Successful
            },
            // A clock skew between ECS and Lambda must not produce a negative latency.
            callback_latency_ms: Some((now - *stopped_at).num_milliseconds().max(0) as f64),
            dispatch_id: Some(dispatch_id.clone()),
            task_arn: Some(task_arn.clone()),
        },
        Ok(Outcome::Skipped {
            reason,
            dispatch_id,
            task_arn,
        }) => InvocationMetrics {
            tally: Tally::Skipped(*reason),
            callback_latency_ms: None,
            dispatch_id: dispatch_id.clone(),
            task_arn: task_arn.clone(),
        },
        Err(_) => InvocationMetrics {
            tally: Tally::Failed,
            callback_latency_ms: None,
            dispatch_id: None,
            task_arn: None,
        },
    }
}

/// Processes one event against `store`: the whole decision and at most one write.
/// `request_id` (the Lambda request ID, unique per invocation) is written with the
/// update; `now` stamps `updatedAt`.
pub async fn process<S: DispatchStore>(
    payload: serde_json::Value,
    store: &S,
    config: &Config,
    request_id: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, CallbackError> {
    let task = match classify(payload)? {
        Classified::Stopped(task) => task,
        Classified::Ignored(ignored) => return Ok(skip_ignored(ignored)),
    };
    Span::current().record("task_arn", task.task_arn.as_str());

    let Some(dispatch_id) = find_dispatch_id(&task, store).await? else {
        info!("{} {}", logs::NO_DISPATCH_ID_FOUND, task.task_arn);
        return Ok(Outcome::Skipped {
            reason: SkipReason::NoDispatchId,
            dispatch_id: None,
            task_arn: Some(task.task_arn),
        });
    };

    let outcome = settle(
        &task,
        &dispatch_id,
        store,
        &config.worker_container,
        request_id,
        now,
    )
    .await?;
    Ok(outcome)
}

/// The dispatch ID from the event, else from the `task_arn-index` GSI.
async fn find_dispatch_id<S: DispatchStore>(
    task: &StoppedTask,
    store: &S,
) -> Result<Option<DispatchId>, CallbackError> {
    let found = find_dispatch(task, store).await?;
    Ok(found.map(|(id, source)| {
        Span::current().record("dispatch_id", id.as_str());
        info!(source = %source, "dispatch ID found");
        id
    }))
}

fn skip_ignored(ignored: Ignored) -> Outcome {
    let task_arn = match ignored {
        Ignored::NotTaskStateChange {
            source,
            detail_type,
        } => {
            info!(%source, %detail_type, "not an ECS task state change; event skipped");
            return Outcome::Skipped {
                reason: SkipReason::NotTaskStateChange,
                dispatch_id: None,
                task_arn: None,
            };
        }
        Ignored::NotStopped {
            task_arn,
            last_status,
        } => {
            info!(
                task_arn = task_arn.as_deref().unwrap_or_default(),
                %last_status,
                "task has not stopped; event skipped"
            );
            task_arn
        }
    };
    Outcome::Skipped {
        reason: SkipReason::NotStopped,
        dispatch_id: None,
        task_arn,
    }
}

#[cfg(test)]
mod tests;
