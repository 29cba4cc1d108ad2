//! `outpost-ops rule enable|disable`: the completion rule's state, changed with a
//! confirmation, shown before and after (runbook 4 step 2, and 5).

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::confirm;
use crate::context::Context;
use crate::error::{aws, Result};
use crate::output::{self, Report};

#[derive(Debug, Args)]
pub struct RuleArgs {
    #[command(subcommand)]
    pub action: RuleAction,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Subcommand)]
pub enum RuleAction {
    /// Send stopped tasks to the function again. Then run `outpost-ops reconcile`: events
    /// of tasks that stopped while it was disabled were never sent.
    Enable,
    /// Stop sending stopped tasks to the function (maintenance). The reconciler still
    /// settles stopped tasks' dispatches on its schedule.
    Disable,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleReport {
    pub rule: String,
    pub before: String,
    pub after: String,
    pub changed: bool,
    pub message: String,
    /// Not confirmed: nothing changed.
    pub refused: bool,
}

/// The rule's state (`ENABLED`, `DISABLED`, ...), and its schedule expression (empty for
/// a rule on events).
pub async fn describe(
    client: &aws_sdk_eventbridge::Client,
    rule: &str,
) -> Result<(String, String)> {
    let described = client.describe_rule().name(rule).send().await;
    let described = described.map_err(aws("DescribeRule", rule))?;
    let state = described.state().map_or("UNKNOWN", |s| s.as_str());
    let expression = described.schedule_expression().unwrap_or_default();
    Ok((state.to_owned(), expression.to_owned()))
}

pub async fn exec(ctx: &Context, args: RuleArgs) -> Result<RuleReport> {
    let client = aws_sdk_eventbridge::Client::new(&ctx.sdk);
    let rule = &ctx.names.rule;
    ctx.progress.step(&format!("reading rule {rule}"));
    let (before, _) = describe(&client, rule).await?;
    let (wanted, verb) = match args.action {
        RuleAction::Enable => ("ENABLED", "enable"),
        RuleAction::Disable => ("DISABLED", "disable"),
    };
    let mut report = RuleReport {
        rule: rule.clone(),
        before: before.clone(),
        after: before.clone(),
        changed: false,
        message: format!("{rule} is already {wanted}: nothing to do"),
        refused: false,
    };
    if before == wanted {
        return Ok(report);
    }
    ctx.progress.done();
    let consequence = match args.action {
        RuleAction::Enable => "stopped ECS tasks will reach the callback again",
        RuleAction::Disable => "stopped ECS tasks will no longer reach the callback (the reconciler still settles them, late)",
    };
    let question = format!("{verb} {rule} ({before} now): {consequence}.");
    if let Some(refusal) = confirm::refusal(&question, verb, args.yes)? {
        report.refused = true;
        report.message = refusal.to_owned();
        return Ok(report);
    }
    ctx.progress.step(&format!("{verb} {rule}"));
    let next = match args.action {
        RuleAction::Enable => {
            let sent = client.enable_rule().name(rule).send().await;
            sent.map_err(aws("EnableRule", rule))?;
            "now run `outpost-ops reconcile` for tasks that stopped meanwhile"
        }
        RuleAction::Disable => {
            let sent = client.disable_rule().name(rule).send().await;
            sent.map_err(aws("DisableRule", rule))?;
            "`outpost-ops rule enable` undoes it"
        }
    };
    let (after, _) = describe(&client, rule).await?;
    report.message = format!("{rule} {before} -> {after}; {next}");
    report.after = after;
    report.changed = true;
    Ok(report)
}

impl Report for RuleReport {
    fn render(&self) -> String {
        let text = format!("Rule {}: {} -> {}\n", self.rule, self.before, self.after);
        text + &output::verdict(self.found_problem(), &self.message)
    }

    fn found_problem(&self) -> bool {
        self.refused
    }
}
