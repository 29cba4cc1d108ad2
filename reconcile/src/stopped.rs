//! The first path of a run: what ECS itself says stopped. For each watched cluster,
//! `ListTasks` with `desiredStatus=STOPPED` (every page: the last hour's stops), then
//! `DescribeTasks` with tags, 100 a call. Each stopped task's dispatch is found as the
//! callback finds it, read before anything is written (`BatchGetItem`: every run sees the
//! last hour's stops again, and a stop already settled should cost a read, not a refused
//! write), and the unsettled ones are settled through the shared path. Its cost grows
//! with what stopped, not with what runs.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Utc};
use contract::logs;
use dispatch::dispatch_id::DispatchId;
use dispatch::event::StoppedTask;
use dispatch::record::DispatchRecord;
use dispatch_aws::ecs::{describe, list_clusters, list_stopped, stopped_task, BATCH};
use dispatch_aws::settle::find_dispatch;
use tracing::warn;

use crate::run::{settle, Deps, Mode, Report};

/// What the path leaves to the rest of the run.
#[derive(Debug, Default)]
pub(crate) struct Read {
    /// Dispatches it read (settled or not): the sweep leaves them out.
    pub handled: HashSet<String>,
    /// Whether it read any dispatch's record from the table.
    pub answered: bool,
}

/// Finds the tasks ECS lists as stopped in the watched clusters and settles their
/// unsettled dispatches, a `DescribeTasks` batch at a time (so a run holds one batch of
/// tasks, however many stopped in the hour), until `stop_by`: what is left is listed
/// again by the next run, as long as ECS remembers it. Failures are counted in the
/// report; one cluster's or batch's failure never stops the others.
pub(crate) async fn settle_stopped(
    mode: Mode,
    deps: &Deps,
    at: (&str, DateTime<Utc>),
    stop_by: Instant,
    report: &mut Report,
) -> Read {
    let mut read = Read::default();
    for cluster in clusters(deps, report).await {
        let arns = match list_stopped(&deps.ecs, &cluster).await {
            Ok(arns) => arns,
            Err(err) => {
                report.errors.push(err.to_string());
                continue;
            }
        };
        for batch in arns.chunks(BATCH) {
            if Instant::now() >= stop_by {
                warn!(cluster = %cluster, "{}", logs::RECONCILER_STOPS_LEFT);
                return read;
            }
            let tasks = stopped_tasks(deps, &cluster, batch, at.1, report).await;
            report.stopped_tasks += tasks.len();
            settle_batch(mode, deps, tasks, at, &mut read, report).await;
        }
    }
    read
}

/// Finds the dispatches of one batch of stopped tasks, reads them, and settles those
/// not settled yet.
async fn settle_batch(
    mode: Mode,
    deps: &Deps,
    tasks: Vec<StoppedTask>,
    at: (&str, DateTime<Utc>),
    read: &mut Read,
    report: &mut Report,
) {
    let mut owned: Vec<(DispatchId, StoppedTask)> = Vec::new();
    for task in tasks {
        match find_dispatch(&task, &deps.store).await {
            Ok(Some((id, _source))) => owned.push((id, task)),
            Ok(None) => report.not_dispatches += 1,
            Err(err) => {
                report.unchecked += 1;
                warn!(task_arn = %task.task_arn, why = %err, "{}", logs::RECONCILER_UNCHECKED);
                report.errors.push(err.to_string());
            }
        }
    }
    let records = read_records(deps, &owned, read, report).await;
    for (id, task) in owned {
        let Some(record) = records.get(id.as_str()) else {
            // Unread (its error is counted), or no record: the control plane may not have
            // written it yet, and the callback's retries or a later run will settle it.
            continue;
        };
        read.handled.insert(id.as_str().to_owned());
        if settled_already(record, &task) {
            report.already_settled += 1;
        } else {
            settle(mode, deps, &id, &task, at, report).await;
        }
    }
}

/// Whether writing `task`'s outcome would be refused: the record is terminal (and not
/// the reconciler's guess of this same task, which the truth replaces), or belongs to
/// another task.
fn settled_already(record: &DispatchRecord, task: &StoppedTask) -> bool {
    let owner = record.task();
    let corrects_guess = record.is_guess() && owner == Some(task.task_arn.as_str());
    let other_task = owner.is_some_and(|owner| owner != task.task_arn);
    other_task || (record.terminal_status().is_some() && !corrects_guess)
}

/// The watched clusters: the one, or every cluster of the account (`ListClusters`).
async fn clusters(deps: &Deps, report: &mut Report) -> Vec<String> {
    match &deps.settings.watched.cluster {
        Some(cluster) => vec![cluster.clone()],
        None => list_clusters(&deps.ecs).await.unwrap_or_else(|err| {
            report.errors.push(err.to_string());
            Vec::new()
        }),
    }
}

/// The tasks of one batch that stopped more than the grace period ago (not those still
/// stopping, nor those whose event may still be on its way: a settle here counts as a
/// lost event), read as their stop events would be.
async fn stopped_tasks(
    deps: &Deps,
    cluster: &str,
    batch: &[String],
    now: DateTime<Utc>,
    report: &mut Report,
) -> Vec<StoppedTask> {
    let settled_by_now = now - deps.settings.grace;
    match describe(&deps.ecs, cluster, batch).await {
        Ok(described) => {
            let tasks = described.tasks.iter().filter_map(|t| stopped_task(t, now));
            tasks
                .filter(|task| task.stopped_at <= settled_by_now)
                .collect()
        }
        Err(err) => {
            report.errors.push(err.to_string());
            Vec::new()
        }
    }
}

/// The records of the dispatches `owned` names, by dispatch ID; IDs left unread are
/// counted unchecked.
async fn read_records(
    deps: &Deps,
    owned: &[(DispatchId, StoppedTask)],
    read: &mut Read,
    report: &mut Report,
) -> HashMap<String, DispatchRecord> {
    let mut ids: Vec<String> = owned.iter().map(|(id, _)| id.as_str().to_owned()).collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return HashMap::new();
    }
    let batch = deps.store.get_many(&ids).await;
    read.answered |= batch.errors.is_empty() || !batch.records.is_empty();
    report
        .errors
        .extend(batch.errors.iter().map(ToString::to_string));
    for id in &batch.unread {
        report.unchecked += 1;
        warn!(dispatch_id = %id, why = "its record could not be read", "{}", logs::RECONCILER_UNCHECKED);
    }
    let records = batch.records.into_iter();
    records.map(|r| (r.dispatch_id.clone(), r)).collect()
}
