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
use crate::logs::{fetch, Line, Source};
use crate::output::{self, Format, Report};

#[derive(Debug, Args)]
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

async fn read(ctx: &Context, args: &LogsArgs, start_ms: i64) -> Result<Vec<Line>> {
    let client = ctx.logs();
    let pattern = pattern(args);
    let mut lines = Vec::new();
    for (source, group) in groups(ctx, args.function) {
        ctx.progress.step(&format!("reading {group}"));
        lines.extend(
            fetch(
                &client,
                source,
                group,
                pattern.as_deref(),
                start_ms,
                args.limit.saturating_mul(4).max(1000),
            )
            .await?,
        );
    }
    lines.sort_by_key(|line| line.timestamp);
    Ok(lines)
}

fn groups(ctx: &Context, which: Which) -> Vec<(Source, &str)> {
    let callback = (Source::Callback, ctx.names.log_group.as_str());
    let reconciler = (Source::Reconciler, ctx.names.reconciler_log_group.as_str());
    match which {
        Which::Both => vec![callback, reconciler],
        Which::Callback => vec![callback],
        Which::Reconciler => vec![reconciler],
    }
}

pub async fn exec(ctx: &Context, args: LogsArgs) -> Result<LogsReport> {
    let since =
        chrono::Duration::from_std(args.since).map_err(|err| OpsError::Usage(err.to_string()))?;
    let start = Utc::now() - since;
    let lines = read(ctx, &args, start.timestamp_millis()).await?;
    let cold_starts = lines.iter().filter(|line| line.cold_start).count();
    let mut shown: Vec<Line> = lines.into_iter().filter(|line| keep(&args, line)).collect();
    let truncated = shown.len() > args.limit;
    if truncated {
        shown.drain(..shown.len() - args.limit);
    }
    let report = LogsReport {
        since: function::timefmt::record_timestamp(start),
        errors: shown.iter().filter(|line| line.error).count(),
        cold_starts,
        lines: shown,
        truncated,
    };
    if args.follow {
        follow(ctx, &args, report).await
    } else {
        Ok(report)
    }
}

/// Prints what was found, then each new line as it comes, until Ctrl-C.
async fn follow(ctx: &Context, args: &LogsArgs, report: LogsReport) -> Result<LogsReport> {
    let print = |line: &Line| match ctx.format {
        Format::Json => println!("{}", serde_json::to_string(line).unwrap_or_default()),
        Format::Table => println!("{}", render_line(line)),
    };
    let mut seen: HashSet<(i64, String)> = HashSet::new();
    let mut from = report
        .lines
        .last()
        .map_or_else(|| Utc::now().timestamp_millis(), |l| l.timestamp);
    for line in &report.lines {
        print(line);
        seen.insert((line.timestamp, line.raw.clone()));
    }
    ctx.progress.done();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
        for line in read(ctx, args, from).await? {
            if keep(args, &line) && seen.insert((line.timestamp, line.raw.clone())) {
                from = from.max(line.timestamp);
                print(&line);
            }
        }
    }
    // Everything was printed as it came.
    Ok(LogsReport {
        lines: Vec::new(),
        ..report
    })
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
        let mut text: String = self
            .lines
            .iter()
            .map(|line| render_line(line) + "\n")
            .collect();
        if self.lines.is_empty() {
            text.push_str("  no matching line\n");
        }
        text + &output::verdict(
            false,
            &format!(
                "{} line(s) since {}{}, {} error line(s), {} cold start(s)",
                self.lines.len(),
                self.since,
                if self.truncated {
                    " (only the last --limit shown)"
                } else {
                    ""
                },
                self.errors,
                self.cold_starts
            ),
        )
    }

    fn found_problem(&self) -> bool {
        false
    }
}
