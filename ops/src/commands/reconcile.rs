//! `outpost-ops reconcile`: the reconciler's run, now, from the same code as the scheduled
//! one (`reconcile::run`), with the deployed reconciler's own settings.

use chrono::Utc;
use clap::Args;
use std::time::{Duration, Instant};

use reconcile::config::Settings;
use reconcile::run::{run_in, Deps, Mode, Report as RunReport};
use serde::Serialize;

use crate::context::Context;
use crate::error::{aws, OpsError, Result};
use crate::output::{self, or_dash, Report, Table};
use crate::tasks;

/// The longest a run by hand sweeps: the reconciler function's timeout less its reserve.
const RUN_TIME: Duration = Duration::from_secs(105);

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Decide as a run would, write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileReport {
    pub function: String,
    #[serde(flatten)]
    pub run: RunReport,
}

pub async fn exec(ctx: &Context, args: ReconcileArgs) -> Result<ReconcileReport> {
    let function = &ctx.names.reconciler;
    ctx.progress.step(&format!("reading {function}'s settings"));
    let configuration = aws_sdk_lambda::Client::new(&ctx.sdk)
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .map_err(aws("GetFunctionConfiguration", function))?;
    let variables = configuration.environment().and_then(|env| env.variables());
    let settings = Settings::from_lookup(|name| variables?.get(name).cloned())
        .map_err(|err| OpsError::Usage(format!("{function}'s environment: {err}")))?;
    let deps = Deps::new(
        aws_sdk_dynamodb::Client::new(&ctx.sdk),
        aws_sdk_ecs::Client::new(&ctx.sdk),
        settings,
    );
    let (mode, doing) = if args.dry_run {
        (Mode::DryRun, "reconciling (dry run)")
    } else {
        (Mode::Settle, "reconciling")
    };
    ctx.progress.step(doing);
    let now = Utc::now();
    let nanos = now.timestamp_nanos_opt().unwrap_or_default();
    let request_id = format!("outpost-ops-reconcile-{nanos}");
    // A person waits for this run: its sweep takes what a scheduled run's would, at most.
    let stop_by = Instant::now() + RUN_TIME;
    let run = run_in(mode, &deps, &request_id, now, stop_by)
        .await
        .map_err(|err| OpsError::Run(err.to_string()))?;
    Ok(ReconcileReport {
        function: function.clone(),
        run,
    })
}

impl Report for ReconcileReport {
    fn render(&self) -> String {
        let run = &self.run;
        let verb = if run.dry_run {
            "would settle"
        } else {
            "settled"
        };
        let mut text = format!(
            "Reconciler run ({}){}: examined {}, {verb} {}, still running {}, task missing {}, no task {}, settled meanwhile {}, unchecked {}\n",
            self.function,
            if run.dry_run { ", dry run: nothing written" } else { "" },
            run.examined, run.settled_total(), run.still_running, run.task_missing, run.no_task, run.already_settled, run.unchecked
        );
        if !run.dispatches.is_empty() {
            let mut table = Table::new(&["DISPATCH", "STATUS", "STOP CODE", "TASK"]);
            for d in &run.dispatches {
                table.row(vec![
                    d.dispatch_id.clone(),
                    d.status.clone(),
                    or_dash(d.stop_code.as_deref()),
                    tasks::short(&d.task_arn).to_owned(),
                ]);
            }
            text += &format!("\n{}", table.render());
        }
        for error in &run.errors {
            text.push_str(&format!("  error: {error}\n"));
        }
        let summary = if run.errors.is_empty() {
            format!("{verb} {} dispatch(es)", run.settled_total())
        } else {
            format!(
                "{} error(s); {} dispatch(es) unchecked, the next run tries again",
                run.errors.len(),
                run.unchecked
            )
        };
        text + &output::verdict(self.found_problem(), &summary)
    }

    fn found_problem(&self) -> bool {
        !self.run.errors.is_empty()
    }
}
