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

/// The rule's state (`ENABLED`, `DISABLED`, ...).
pub async fn state(client: &aws_sdk_eventbridge::Client, rule: &str) -> Result<String> {
    let rule_out = client
        .describe_rule()
        .name(rule)
        .send()
        .await
        .map_err(aws("DescribeRule", rule))?;
    Ok(rule_out
        .state()
        .map_or("UNKNOWN", |s| s.as_str())
        .to_owned())
}

pub async fn exec(ctx: &Context, args: RuleArgs) -> Result<RuleReport> {
    let client = ctx.events();
    let rule = &ctx.names.rule;
    ctx.progress.step(&format!("reading rule {rule}"));
    let before = state(&client, rule).await?;
    let (wanted, verb) = match args.action {
        RuleAction::Enable => ("ENABLED", "enable"),
        RuleAction::Disable => ("DISABLED", "disable"),
    };
    let report = |after: String, changed, refused, message: String| RuleReport {
        rule: rule.clone(),
        before: before.clone(),
        after,
        changed,
        message,
        refused,
    };
    if before == wanted {
        return Ok(report(
            before.clone(),
            false,
            false,
            format!("{rule} is already {wanted}: nothing to do"),
        ));
    }
    ctx.progress.done();
    let consequence = match args.action {
        RuleAction::Enable => "stopped ECS tasks will reach the callback again",
        RuleAction::Disable => "stopped ECS tasks will no longer reach the callback (the reconciler still settles them, late)",
    };
    let answer = confirm::ask(
        &format!("{verb} {rule} ({before} now): {consequence}."),
        verb,
        args.yes,
    )?;
    if let Some(refusal) = answer.refusal() {
        return Ok(report(before.clone(), false, true, refusal.to_owned()));
    }
    ctx.progress.step(&format!("{verb} {rule}"));
    match args.action {
        RuleAction::Enable => client
            .enable_rule()
            .name(rule)
            .send()
            .await
            .map(|_| ())
            .map_err(aws("EnableRule", rule))?,
        RuleAction::Disable => client
            .disable_rule()
            .name(rule)
            .send()
            .await
            .map(|_| ())
            .map_err(aws("DisableRule", rule))?,
    };
    let after = state(&client, rule).await?;
    let message = match args.action {
        RuleAction::Enable => format!("{rule} {before} -> {after}; now run `outpost-ops reconcile` for tasks that stopped meanwhile"),
        RuleAction::Disable => format!("{rule} {before} -> {after}; `outpost-ops rule enable` undoes it"),
    };
    Ok(report(after, true, false, message))
}

impl Report for RuleReport {
    fn render(&self) -> String {
        let mut text = format!("Rule {}: {} -> {}\n", self.rule, self.before, self.after);
        text.push_str(&output::verdict(self.found_problem(), &self.message));
        text
    }

    fn found_problem(&self) -> bool {
        self.refused
    }
}
