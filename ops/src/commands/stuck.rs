//! `outpost-ops stuck`: the runbook's "Scan for stuck RUNNING dispatches", as a Query of
//! `status-createdAt-index` (oldest first, never a Scan), with each task's state.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::Args;
use contract::DispatchStatus;
use dispatch::timefmt::record_timestamp;
use dispatch_aws::status_index::StatusIndex;
use reconcile::plan::Candidate;
use serde::Serialize;

use crate::context::Context;
use crate::error::{OpsError, Result};
use crate::output::{self, or_dash, Report, Table};
use crate::tasks::{self, TaskState};

#[derive(Debug, Args)]
pub struct StuckArgs {
    /// Only dispatches created longer ago than this (30m, 1h, 2d).
    #[arg(long, default_value = "1h", value_parser = crate::cli::duration)]
    pub older_than: Duration,
    /// The non-terminal status to list, in any case; repeat for several.
    #[arg(long = "status", default_value = contract::status::RUNNING, value_parser = status)]
    pub statuses: Vec<String>,
    /// The most dispatches listed.
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// Do not ask ECS about the tasks.
    #[arg(long)]
    pub no_tasks: bool,
}

/// What `stuck` found.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StuckReport {
    pub table: String,
    pub index: String,
    pub created_before: String,
    pub dispatches: Vec<StuckDispatch>,
    /// The listing stopped at `--limit`: there may be more.
    pub truncated: bool,
    /// Dispatches listed whose `createdAt` is not RFC 3339: their age cannot be told.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
}

/// A status as the table stores it: upper case (`running` lists RUNNING).
fn status(text: &str) -> Result<String, String> {
    Ok(text.trim().to_uppercase())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StuckDispatch {
    pub dispatch_id: String,
    pub status: String,
    pub created_at: String,
    pub age: String,
    pub task_arn: Option<String>,
    /// What ECS says of the task (absent with `--no-tasks` or without a task).
    pub task: Option<TaskState>,
    /// What to do, in the runbook's words.
    pub next: String,
}

pub async fn exec(ctx: &Context, args: StuckArgs) -> Result<StuckReport> {
    check_args(&args)?;
    let now = Utc::now();
    let before = crate::cli::before(now, args.older_than)?;
    let index = StatusIndex {
        client: aws_sdk_dynamodb::Client::new(&ctx.sdk),
        table: ctx.names.table.clone(),
        index: contract::table::STATUS_INDEX.name.to_owned(),
        page_size: dispatch_aws::status_index::PAGE_SIZE,
    };
    let (found, truncated, unreadable) = list(ctx, &index, &args, before).await?;
    let states = if args.no_tasks {
        Default::default()
    } else {
        ctx.progress
            .step(&format!("asking ECS about {} tasks", found.len()));
        let arns = found.iter().filter_map(|(_, c)| c.task_arn.clone());
        let ecs = aws_sdk_ecs::Client::new(&ctx.sdk);
        let arns: Vec<String> = arns.collect();
        tasks::describe(&ecs, ctx.watched.as_ref(), &arns).await
    };
    let dispatches = found
        .into_iter()
        .map(|(status, candidate)| row(status, candidate, &states, args.no_tasks, now))
        .collect();
    Ok(StuckReport {
        table: ctx.names.table.clone(),
        index: index.index,
        created_before: record_timestamp(before),
        dispatches,
        truncated,
        unreadable,
    })
}

/// Refuses a terminal `--status` (a settled dispatch is never stuck) and a `--limit` of 0.
fn check_args(args: &StuckArgs) -> Result<()> {
    // `--status` is upper case already (`status`).
    if let Some(terminal) = args
        .statuses
        .iter()
        .find(|s| DispatchStatus::is_terminal(s))
    {
        return Err(OpsError::Usage(format!(
            "--status {terminal} is terminal: a settled dispatch is never stuck"
        )));
    }
    if args.limit == 0 {
        return Err(OpsError::Usage("--limit must be at least 1".into()));
    }
    Ok(())
}

/// The dispatches of each `--status` (each status once) created before `before`, with
/// their status, oldest first per status, at most `--limit` in all; whether the limit cut
/// the listing; and the dispatches whose `createdAt` is not RFC 3339.
async fn list(
    ctx: &Context,
    index: &StatusIndex,
    args: &StuckArgs,
    before: DateTime<Utc>,
) -> Result<(Vec<(String, Candidate)>, bool, Vec<String>)> {
    let (mut found, mut truncated, mut unreadable) = (Vec::new(), false, Vec::new());
    let mut statuses = HashSet::new();
    for status in args.statuses.iter().filter(|s| statuses.insert(*s)) {
        ctx.progress
            .step(&format!("querying {} for {status}", index.index));
        let room = args.limit.saturating_sub(found.len());
        // One more than the room tells a full listing from a cut one.
        let listing = index.list(status, before, room.saturating_add(1)).await;
        if let Some(err) = listing.error {
            return Err(err.into());
        }
        unreadable.extend(listing.unreadable);
        let mut candidates: Vec<Candidate> =
            listing.records.iter().filter_map(Candidate::of).collect();
        truncated |= candidates.len() > room;
        candidates.truncate(room);
        found.extend(candidates.into_iter().map(|c| (status.clone(), c)));
    }
    Ok((found, truncated, unreadable))
}

/// One stuck dispatch as listed: its age, its task's state, what to do.
fn row(
    status: String,
    candidate: Candidate,
    states: &BTreeMap<String, TaskState>,
    no_tasks: bool,
    now: DateTime<Utc>,
) -> StuckDispatch {
    let id = &candidate.dispatch_id;
    let task = candidate.task_arn.as_ref().and_then(|arn| states.get(arn));
    let next = match task {
        _ if candidate.task_arn.is_none() => format!("names no task: `outpost-ops diagnose {id}`"),
        _ if no_tasks => format!("`outpost-ops diagnose {id}`"),
        Some(task) if task.unknown.is_some() => {
            format!("task state unknown: `outpost-ops diagnose {id}`")
        }
        Some(task) if task.outside_stack.is_some() => {
            format!("task outside the stack's cluster, never settled for you: `outpost-ops diagnose {id}`")
        }
        Some(task) if task.stopped() || task.missing => {
            "task stopped: `outpost-ops reconcile` settles it".to_owned()
        }
        Some(_) => "task still running: wait".to_owned(),
        None => format!("task not checked: `outpost-ops diagnose {id}`"),
    };
    StuckDispatch {
        age: age(now - candidate.created_at),
        created_at: record_timestamp(candidate.created_at),
        task: task.cloned(),
        dispatch_id: candidate.dispatch_id,
        status,
        task_arn: candidate.task_arn,
        next,
    }
}

/// `3h12m`, `2d4h`: an age at a glance.
pub fn age(elapsed: chrono::Duration) -> String {
    let minutes = elapsed.num_minutes().max(0);
    match (minutes / 1440, minutes % 1440 / 60, minutes % 60) {
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h{m:02}m"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

impl Report for StuckReport {
    fn render(&self) -> String {
        let mut table = Table::new(&[
            "DISPATCH",
            "STATUS",
            "CREATED",
            "AGE",
            "TASK",
            "TASK STATE",
            "NEXT",
        ]);
        for d in &self.dispatches {
            table.row(vec![
                d.dispatch_id.clone(),
                d.status.clone(),
                d.created_at.clone(),
                d.age.clone(),
                or_dash(d.task_arn.as_deref().map(tasks::short)),
                or_dash(d.task.as_ref().map(TaskState::summary)),
                d.next.clone(),
            ]);
        }
        let mut text = format!(
            "Dispatches created before {} (Query of {} on {}):\n\n{}",
            self.created_before,
            self.index,
            self.table,
            table.render()
        );
        let unreadable: Vec<String> = self
            .unreadable
            .iter()
            .map(|id| format!("{id}: its createdAt is not RFC 3339, so its age cannot be told; `outpost-ops diagnose {id}`"))
            .collect();
        text.push_str(&output::warnings(&unreadable));
        let summary = match (self.dispatches.len(), self.truncated) {
            (0, _) => "no stuck dispatch".to_owned(),
            (n, false) => format!("{n} stuck dispatch(es)"),
            (n, true) => format!("at least {n} stuck dispatches (raise --limit to see more)"),
        };
        text + &output::verdict(self.found_problem(), &summary)
    }

    fn found_problem(&self) -> bool {
        !self.dispatches.is_empty() || !self.unreadable.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_at_a_glance() {
        let minutes = chrono::Duration::minutes;
        assert_eq!(age(minutes(7)), "7m");
        assert_eq!(age(minutes(192)), "3h12m");
        assert_eq!(age(minutes(3 * 1440 + 125)), "3d2h");
    }

    #[test]
    fn a_status_is_taken_in_any_case() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            stuck: StuckArgs,
        }
        let cli =
            Cli::try_parse_from(["stuck", "--status", "running", "--status", " Pending "]).unwrap();
        assert_eq!(cli.stuck.statuses, ["RUNNING", "PENDING"]);
        assert!(check_args(
            &Cli::try_parse_from(["stuck", "--status", "completed"])
                .unwrap()
                .stuck
        )
        .is_err());
    }
}
