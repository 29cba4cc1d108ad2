//! `outpost-ops reconcile`: the reconciler's run, now, from the same code as the scheduled
//! one (`reconcile::run`), with the deployed reconciler's own settings.

use chrono::Utc;
use clap::Args;
use dispatch_aws::status_index::StatusIndex;
use dispatch_aws::table::DynamoStore;
use reconcile::config::Settings;
use reconcile::run::{run_in, Deps, Mode, Report as RunReport};
use serde::Serialize;

use crate::context::Context;
use crate::error::{aws, OpsError, Result};
use crate::output::{self, or_dash, Report, Table};
use crate::tasks;

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

/// The deployed function's environment variables.
pub async fn environment(
    client: &aws_sdk_lambda::Client,
    function: &str,
) -> Result<Vec<(String, String)>> {
    let configuration = client
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .map_err(aws("GetFunctionConfiguration", function))?;
    Ok(configuration
        .environment()
        .and_then(|env| env.variables())
        .map(|vars| vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

pub async fn exec(ctx: &Context, args: ReconcileArgs) -> Result<ReconcileReport> {
    let function = &ctx.names.reconciler;
    ctx.progress.step(&format!("reading {function}'s settings"));
    let variables = environment(&ctx.lambda(), function).await?;
    let lookup = |name: &str| {
        variables
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let settings = Settings::from_lookup(lookup)
        .map_err(|err| OpsError::Usage(format!("{function}'s environment: {err}")))?;
    let dynamodb = ctx.dynamodb();
    let deps = Deps {
        index: StatusIndex {
            client: dynamodb.clone(),
            table: settings.table_name.clone(),
            index: settings.status_index.clone(),
            page_size: dispatch_aws::status_index::PAGE_SIZE,
        },
        ecs: ctx.ecs(),
        store: DynamoStore::new(dynamodb, &settings.table_name, &settings.task_arn_index),
        settings,
    };
    let mode = if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Settle
    };
    ctx.progress.step(if args.dry_run {
        "reconciling (dry run)"
    } else {
        "reconciling"
    });
    let now = Utc::now();
    let request_id = format!(
        "outpost-ops-reconcile-{}",
        now.timestamp_nanos_opt().unwrap_or_default()
    );
    let run = run_in(mode, &deps, &request_id, now)
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
            text.push('\n');
            text.push_str(&table.render());
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
