//! `outpost-ops logs`: the callback's and the reconciler's lines, readable, filtered by
//! dispatch, errors or one of the runbook's phrases; cold starts counted whatever the
//! log format (runbook 4 step 3, and 5).

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::context::Context;
use crate::error::{OpsError, Result};
use crate::logs::{fetch, newest, Fetched, Line, Source};
use crate::output::{self, Format, Report};

#[derive(Clone, Debug, Args)]
pub struct LogsArgs {
    /// Only lines that name this dispatch.
    #[arg(long)]
    pub dispatch: Option<String>,
    /// Only errors (the runbook's `?ERROR ?Exception ?Error`).
    #[arg(long)]
    pub errors: bool,
    /// Only lines with one of the runbook's phrases.
    #[arg(long, value_enum)]
    pub phrase: Option<Phrase>,
    /// How far back (30m, 1h, 2d).
    #[arg(long, default_value = "30m", value_parser = crate::cli::duration)]
    pub since: Duration,
    /// Which function's log group.
    #[arg(long, value_enum, default_value_t = Which::Both)]
    pub function: Which,
    /// Keep printing new lines (every 2 s) until interrupted.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// The most lines shown.
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Which {
    Both,
    Callback,
    Reconciler,
}

/// The phrases the runbook searches for, as the functions log them (`contract::logs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Phrase {
    /// "querying by task ARN" (High Latency: the GSI is used).
    QueryingByTaskArn,
    /// "No dispatch ID found in task" (Missing Dispatch ID in Task).
    NoDispatchId,
    /// "dispatch settled".
    Settled,
    /// "dispatch update failed".
    UpdateFailed,
    /// "dispatch settled by the reconciler" (an event was lost).
    ReconcilerSettled,
    /// "dispatch names no task; reported, not settled".
    ReconcilerNoTask,
    /// "dispatch left unchecked; the next run tries again" (with why).
    ReconcilerUnchecked,
}

impl Phrase {
    pub fn text(self) -> &'static str {
        use contract::logs::*;
        match self {
            Phrase::QueryingByTaskArn => QUERYING_BY_TASK_ARN,
            Phrase::NoDispatchId => NO_DISPATCH_ID_FOUND,
            Phrase::Settled => DISPATCH_SETTLED,
            Phrase::UpdateFailed => DISPATCH_UPDATE_FAILED,
            Phrase::ReconcilerSettled => RECONCILER_SETTLED,
            Phrase::ReconcilerNoTask => RECONCILER_NO_TASK,
            Phrase::ReconcilerUnchecked => RECONCILER_UNCHECKED,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsReport {
    pub since: String,
    /// The lines shown, oldest first (metrics lines left out).
    pub lines: Vec<Line>,
    pub errors: usize,
    /// Lambda INIT_START lines (text format) or `platform.initStart` records (JSON format).
    pub cold_starts: usize,
    /// The listing stopped at `--limit`.
    pub truncated: bool,
}

/// What a person wants to see, in CloudWatch Logs' filter syntax where it can say it.
fn pattern(args: &LogsArgs) -> Option<String> {
    match (&args.dispatch, args.phrase) {
        (Some(id), _) => Some(format!("\"{id}\"")),
        (None, Some(phrase)) => Some(format!("\"{}\"", phrase.text())),
        (None, None) if args.errors => Some("?ERROR ?Exception ?Error".to_owned()),
        // Cold starts are counted over every line.
        (None, None) => None,
    }
}

/// The filters CloudWatch Logs could not apply together, applied here.
fn keep(args: &LogsArgs, line: &Line) -> bool {
    !line.metrics
        && (!args.errors || line.error)
        && args.phrase.is_none_or(|p| line.raw.contains(p.text()))
        && args
            .dispatch
            .as_ref()
            .is_none_or(|id| line.raw.contains(id.as_str()))
}

/// Both (or one) log groups' lines from `start` (ms) on that `keep` wants, the newest
/// `--limit` of them.
async fn read(ctx: &Context, args: &LogsArgs, start: i64) -> Result<Fetched> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&ctx.sdk);
    let pattern = pattern(args);
    let pattern = pattern.as_deref();
    let mut all = Fetched {
        complete: true,
        ..Fetched::default()
    };
    for (source, group) in groups(ctx, args.function) {
        ctx.progress.step(&format!("reading {group}"));
        let keep = |line: &Line| keep(args, line);
        let fetched = fetch(&logs, source, group, pattern, start, args.limit, keep).await?;
        all.lines.extend(fetched.lines);
        all.matched += fetched.matched;
        all.cold_starts += fetched.cold_starts;
        all.complete &= fetched.complete;
    }
    newest(&mut all.lines, args.limit);
    Ok(all)
}

/// The log groups `which` names, each with its function.
pub fn groups(ctx: &Context, which: Which) -> Vec<(Source, &str)> {
    let callback = (Source::Callback, ctx.names.log_group.as_str());
    let reconciler = (Source::Reconciler, ctx.names.reconciler_log_group.as_str());
    match which {
        Which::Both => vec![callback, reconciler],
        Which::Callback => vec![callback],
        Which::Reconciler => vec![reconciler],
    }
}

pub async fn exec(ctx: &Context, args: LogsArgs) -> Result<LogsReport> {
    if args.limit == 0 {
        return Err(OpsError::Usage("--limit must be at least 1".into()));
    }
    let start = crate::cli::before(Utc::now(), args.since)?;
    let fetched = read(ctx, &args, start.timestamp_millis()).await?;
    Ok(LogsReport {
        since: dispatch::timefmt::record_timestamp(start),
        errors: fetched.lines.iter().filter(|line| line.error).count(),
        cold_starts: fetched.cold_starts,
        truncated: fetched.matched > fetched.lines.len() || !fetched.complete,
        lines: fetched.lines,
    })
}

/// How far back each poll of `--follow` reads again: CloudWatch Logs can make a line
/// searchable some seconds after its timestamp. Lines already printed are not repeated.
const FOLLOW_OVERLAP_MS: i64 = 30_000;

/// `logs --follow`: prints the lines found, then each new one as it comes (a JSON object
/// per line with `--output json`), every 2 s, until Ctrl-C. Nothing is printed at the end.
pub async fn follow(ctx: &Context, args: LogsArgs) -> Result<()> {
    let report = exec(ctx, args.clone()).await?;
    ctx.progress.done();
    let print = |line: &Line| match ctx.format {
        Format::Json => println!("{}", serde_json::to_string(line).unwrap_or_default()),
        Format::Table => println!("{}", render_line(line)),
    };
    let mut seen: HashSet<(i64, String)> = HashSet::new();
    let now = Utc::now().timestamp_millis();
    let mut newest = report.lines.last().map_or(now, |l| l.timestamp);
    for line in &report.lines {
        print(line);
        seen.insert((line.timestamp, line.raw.clone()));
    }
    // One signal future for the whole loop: a Ctrl-C during a read is not lost.
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let next = async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            read(ctx, &args, newest - FOLLOW_OVERLAP_MS).await
        };
        let fetched = tokio::select! {
            _ = &mut interrupted => return Ok(()),
            fetched = next => fetched?,
        };
        ctx.progress.done();
        for line in fetched.lines {
            if seen.insert((line.timestamp, line.raw.clone())) {
                newest = newest.max(line.timestamp);
                print(&line);
            }
        }
    }
}

/// `time  source  LEVEL  message`.
pub fn render_line(line: &Line) -> String {
    let source = match line.source {
        Source::Callback => "callback",
        Source::Reconciler => "reconciler",
    };
    format!(
        "{}  {source:<10}  {:<8}  {}",
        line.time, line.level, line.message
    )
}

impl Report for LogsReport {
    fn render(&self) -> String {
        let mut text: String = self.lines.iter().map(|l| render_line(l) + "\n").collect();
        if self.lines.is_empty() {
            text.push_str("  no matching line\n");
        }
        let truncated = if self.truncated {
            " (only the last --limit shown)"
        } else {
            ""
        };
        let summary = format!(
            "{} line(s) since {}{truncated}, {} error line(s), {} cold start(s)",
            self.lines.len(),
            self.since,
            self.errors,
            self.cold_starts
        );
        text + &output::verdict(false, &summary)
    }

    fn found_problem(&self) -> bool {
        false
    }
}
