//! `outpost-ops stuck`: the runbook's "Scan for stuck RUNNING dispatches", as a Query of
//! `status-createdAt-index` (oldest first, never a Scan), with each task's state.

use std::time::Duration;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use clap::Args;
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
        client: ctx.dynamodb(),
        table: ctx.names.table.clone(),
        index: contract::table::STATUS_INDEX.name.to_owned(),
        page_size: dispatch_aws::status_index::PAGE_SIZE,
    };
    let Listed {
        found,
        truncated,
        unreadable,
    } = list(ctx, &index, &args, before).await?;
    let states = if args.no_tasks {
        Default::default()
    } else {
        ctx.progress
            .step(&format!("asking ECS about {} tasks", found.len()));
        let arns: Vec<String> = found
            .iter()
            .filter_map(|(_, c)| c.task_arn.clone())
            .collect();
        tasks::describe(&ctx.ecs(), &arns).await?
    };
    let dispatches = found
        .into_iter()
        .map(|(status, candidate)| row(status, candidate, &states, args.no_tasks, now))
        .collect();
    Ok(StuckReport {
        table: ctx.names.table.clone(),
        index: index.index,
        created_before: dispatch::timefmt::record_timestamp(before),
        dispatches,
        truncated,
        unreadable,
    })
}

/// Refuses a terminal `--status` (a settled dispatch is never stuck) and a `--limit` of 0.
fn check_args(args: &StuckArgs) -> Result<()> {
    if let Some(terminal) = args
        .statuses
        .iter()
        .find(|s| contract::DispatchStatus::is_terminal(&s.to_uppercase()))
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

/// What the index listed for `stuck`.
#[derive(Default)]
struct Listed {
    /// Each dispatch with its status, oldest first per status.
    found: Vec<(String, Candidate)>,
    /// The limit cut the listing.
    truncated: bool,
    /// Dispatches whose `createdAt` is not RFC 3339.
    unreadable: Vec<String>,
}

/// The dispatches of each `--status` (each status once) created before `before`, oldest
/// first, at most `--limit` in all.
async fn list(
    ctx: &Context,
    index: &StatusIndex,
    args: &StuckArgs,
    before: DateTime<Utc>,
) -> Result<Listed> {
    let mut listed = Listed::default();
    let (found, truncated) = (&mut listed.found, &mut listed.truncated);
    let mut statuses: Vec<&String> = Vec::new();
    for status in &args.statuses {
        if !statuses.contains(&status) {
            statuses.push(status);
        }
    }
    for status in statuses {
        ctx.progress
            .step(&format!("querying {} for {status}", index.index));
        let room = args.limit.saturating_sub(found.len());
        // One more than the room tells a full listing from a cut one.
        let listing = index.list(status, before, room.saturating_add(1)).await;
        if let Some(err) = listing.error {
            return Err(err.into());
        }
        listed.unreadable.extend(listing.unreadable);
        let mut candidates: Vec<Candidate> =
            listing.records.iter().filter_map(Candidate::of).collect();
        if candidates.len() > room {
            candidates.truncate(room);
            *truncated = true;
        }
        found.extend(candidates.into_iter().map(|c| (status.clone(), c)));
    }
    Ok(listed)
}

/// One stuck dispatch as listed: its age, its task's state, what to do.
fn row(
    status: String,
    candidate: Candidate,
    states: &BTreeMap<String, TaskState>,
    no_tasks: bool,
    now: DateTime<Utc>,
) -> StuckDispatch {
    let task = candidate
        .task_arn
        .as_ref()
        .and_then(|arn| states.get(arn))
        .cloned();
    let next = next_step(
        &candidate.dispatch_id,
        candidate.task_arn.is_some(),
        task.as_ref(),
        no_tasks,
    );
    StuckDispatch {
        age: age(now - candidate.created_at),
        created_at: dispatch::timefmt::record_timestamp(candidate.created_at),
        dispatch_id: candidate.dispatch_id,
        status,
        task_arn: candidate.task_arn,
        task,
        next,
    }
}

/// What to do with one stuck dispatch.
fn next_step(
    dispatch_id: &str,
    has_task: bool,
    task: Option<&TaskState>,
    no_tasks: bool,
) -> String {
    match task {
        _ if !has_task => format!("names no task: `outpost-ops diagnose {dispatch_id}`"),
        _ if no_tasks => format!("`outpost-ops diagnose {dispatch_id}`"),
        Some(task) if task.stopped() || task.missing => {
            "task stopped: `outpost-ops reconcile` settles it".to_owned()
        }
        Some(_) => "task still running: wait".to_owned(),
        None => format!("task not checked: `outpost-ops diagnose {dispatch_id}`"),
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
            "Dispatches created before {} (Query of {} on {}):\n\n",
            self.created_before, self.index, self.table
        );
        if table.is_empty() {
            text.push_str("  none\n");
        } else {
            text.push_str(&table.render());
        }
        let unreadable: Vec<String> = self
            .unreadable
            .iter()
            .map(|id| format!("{id}: its createdAt is not RFC 3339, so its age cannot be told; `outpost-ops diagnose {id}`"))
            .collect();
        text.push_str(&output::warnings(&unreadable));
        let count = self.dispatches.len();
        text + &output::verdict(
            self.found_problem(),
            &match (count, self.truncated) {
                (0, _) => "no stuck dispatch".to_owned(),
                (n, false) => format!("{n} stuck dispatch(es)"),
                (n, true) => format!("at least {n} stuck dispatches (raise --limit to see more)"),
            },
        )
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
