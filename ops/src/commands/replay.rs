//! `outpost-ops replay`: parked events back to the function. Each message's original
//! event is re-invoked asynchronously (as EventBridge invokes it), and the message is
//! deleted only once Lambda accepted that invoke; anything else stays in the queue.
//! SQS's own redrive (`StartMessageMoveTask`) cannot move messages whose source is
//! Lambda, so this is the replay path. The callback is idempotent: replaying an event
//! whose dispatch was settled meanwhile is a counted skip.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use std::collections::HashSet;

use clap::Args;
use serde::Serialize;

use crate::context::Context;
use crate::error::{OpsError, Result};
use crate::output::{self, or_dash, Report, Table};
use crate::parked::{self, Parked, Queue};

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The queue to replay from.
    #[arg(long, value_enum, default_value_t = Queue::Failures)]
    pub from: Queue,
    /// Only this dispatch's events.
    #[arg(long)]
    pub dispatch: Option<String>,
    /// Show what would be replayed; invoke and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The most messages read.
    #[arg(long, default_value_t = 100)]
    pub max: usize,
}

/// What happened to one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Fate {
    /// Invoked, accepted, deleted.
    Replayed,
    /// Dry run: would be replayed.
    WouldReplay,
    /// Another dispatch's (`--dispatch`): left in the queue.
    Skipped,
    /// Holds no event, or names a function not of this stack: left in the queue.
    NotReplayable,
    /// Lambda did not accept the invoke: left in the queue.
    Failed,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Replayed {
    #[serde(flatten)]
    pub parked: Parked,
    pub fate: Fate,
    /// Why it failed or was not replayable.
    pub detail: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayReport {
    pub queue: String,
    pub dry_run: bool,
    /// Every message read: replayed, left, or skipped as another dispatch's.
    pub messages: Vec<Replayed>,
    /// The whole queue was read (else `--max` or the read limit stopped it).
    pub complete: bool,
    /// What went wrong after the replays (the messages left could not be shown again).
    pub warnings: Vec<String>,
}

/// The most messages one replay reads, selected or not.
const READ_LIMIT: usize = 10_000;

pub async fn exec(ctx: &Context, args: ReplayArgs) -> Result<ReplayReport> {
    if args.max == 0 {
        return Err(OpsError::Usage("--max must be at least 1".into()));
    }
    let run = Run {
        ctx,
        dry_run: args.dry_run,
        url: args.from.url(&ctx.names),
        sqs: aws_sdk_sqs::Client::new(&ctx.sdk),
        lambda: aws_sdk_lambda::Client::new(&ctx.sdk),
    };
    let mut report = ReplayReport {
        queue: parked::queue_name(run.url).to_owned(),
        dry_run: args.dry_run,
        ..ReplayReport::default()
    };
    // Receipt handles of the messages not replayed: made visible again at the end, so the
    // next command sees them.
    let mut keep = Vec::new();
    // The messages selected so far (`--max` counts these), and every one received.
    let mut selected = 0;
    let mut seen = HashSet::new();
    let mut idle = 0;
    // Batch by batch, each batch handled before the next is received, so no receipt handle
    // outlives its visibility timeout; until `--max` messages were selected, the read limit
    // was reached, or polls bring nothing new (the queue was read).
    while selected < args.max && seen.len() < READ_LIMIT {
        let reading = format!("reading {} ({} read)", report.queue, seen.len());
        ctx.progress.step(&reading);
        let visibility = parked::REPLAY_VISIBILITY_SECONDS;
        let fresh = parked::receive_new(&run.sqs, run.url, visibility, &mut seen).await?;
        idle = if fresh.is_empty() { idle + 1 } else { 0 };
        if idle == parked::IDLE_POLLS {
            report.complete = true;
            break;
        }
        for parked in fresh.iter().map(|m| parked::parse(args.from, m)) {
            let wanted = args.dispatch.is_none() || parked.dispatch_id == args.dispatch;
            let (fate, detail) = if !wanted {
                (Fate::Skipped, None)
            } else if selected == args.max {
                // Past `--max`: left in the queue, and not shown.
                keep.push(parked.receipt_handle);
                continue;
            } else {
                selected += 1;
                run.replay(&parked, selected).await
            };
            if fate != Fate::Replayed {
                keep.push(parked.receipt_handle.clone());
            }
            report.messages.push(Replayed {
                parked,
                fate,
                detail,
            });
        }
    }
    // What SQS did not make visible again (a whole call or single entries) is a warning.
    if let Err(err) = parked::release(&run.sqs, run.url, &keep).await {
        let visibility = parked::REPLAY_VISIBILITY_SECONDS;
        let warning = format!("{err}: the messages left show again within {visibility} s");
        report.warnings.push(warning);
    }
    Ok(report)
}

/// Where a replay reads from and hands events back to.
struct Run<'a> {
    ctx: &'a Context,
    dry_run: bool,
    url: &'a str,
    sqs: aws_sdk_sqs::Client,
    lambda: aws_sdk_lambda::Client,
}

impl Run<'_> {
    /// Hands the `n`th selected message's event back to its function, and deletes the
    /// message only once Lambda accepted the invoke.
    async fn replay(&self, parked: &Parked, n: usize) -> (Fate, Option<String>) {
        match (&parked.event, target(self.ctx, parked)) {
            (None, _) => (Fate::NotReplayable, Some(parked.error.clone())),
            (_, Err(why)) => (Fate::NotReplayable, Some(why)),
            (Some(_), Ok(_)) if self.dry_run => (Fate::WouldReplay, None),
            (Some(event), Ok(function)) => {
                self.ctx.progress.step(&format!("replaying message {n}"));
                if let Err(why) = invoke(&self.lambda, &function, event).await {
                    return (Fate::Failed, Some(why));
                }
                match parked::delete(&self.sqs, self.url, &parked.receipt_handle).await {
                    Ok(()) => (Fate::Replayed, None),
                    // Invoked but not deleted: a later replay sends it again, which the
                    // callback skips as a duplicate. Said, not hidden.
                    Err(err) => (
                        Fate::Failed,
                        Some(format!("invoked, but not deleted: {err}")),
                    ),
                }
            }
        }
    }
}

/// The function to invoke: the one the failure record names, if it is one of this
/// stack's; the callback for the rule's dead letters.
fn target(ctx: &Context, parked: &Parked) -> Result<String, String> {
    let names = &ctx.names;
    let Some(arn) = &parked.function else {
        return Ok(names.function.clone());
    };
    let name = function_name(arn);
    if name == names.function || name == names.reconciler {
        return Ok(arn.clone());
    }
    let stack = &names.stack;
    Err(format!(
        "the record names {arn}, not a function of stack {stack}"
    ))
}

/// The function name in a function ARN, with or without a qualifier.
fn function_name(arn: &str) -> &str {
    arn.split(':').nth(6).unwrap_or(arn)
}

/// One asynchronous invoke; `Ok` when Lambda accepted it (202).
async fn invoke(
    client: &aws_sdk_lambda::Client,
    function: &str,
    event: &serde_json::Value,
) -> Result<(), String> {
    let output = client
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(event.to_string()))
        .send()
        .await
        .map_err(|err| crate::error::aws("Invoke", function)(err).to_string())?;
    match output.status_code() {
        202 => Ok(()),
        other => Err(format!(
            "Invoke on {function} answered {other}, not 202 (accepted)"
        )),
    }
}

impl Report for ReplayReport {
    fn render(&self) -> String {
        let mut table = Table::new(&["MESSAGE", "DISPATCH", "ERROR", "RESULT"]);
        for m in &self.messages {
            let fate = match m.fate {
                Fate::Replayed => "replayed, deleted".to_owned(),
                Fate::WouldReplay => "would replay".to_owned(),
                Fate::Skipped => "skipped (other dispatch)".to_owned(),
                Fate::NotReplayable | Fate::Failed => {
                    format!("left: {}", m.detail.as_deref().unwrap_or(""))
                }
            };
            table.row(vec![
                m.parked.message_id.clone(),
                or_dash(m.parked.dispatch_id.as_deref()),
                m.parked.error.clone(),
                fate,
            ]);
        }
        let dry_run = if self.dry_run {
            " (dry run: nothing invoked or deleted)"
        } else {
            ""
        };
        let mut text = format!("Parked in {}{dry_run}:\n\n{}", self.queue, table.render());
        if !self.complete {
            text.push_str(
                "\n  the queue was not read to the end (--max): run again for the rest\n",
            );
        }
        text.push_str(&output::warnings(&self.warnings));
        let count = |fate| self.messages.iter().filter(|m| m.fate == fate).count();
        let summary = if self.dry_run {
            format!("{} message(s) would be replayed", count(Fate::WouldReplay))
        } else {
            format!(
                "{} replayed and deleted, {} failed, {} not replayable, {} skipped",
                count(Fate::Replayed),
                count(Fate::Failed),
                count(Fate::NotReplayable),
                count(Fate::Skipped)
            )
        };
        text + &output::verdict(self.found_problem(), &summary)
    }

    fn found_problem(&self) -> bool {
        let left = |m: &Replayed| matches!(m.fate, Fate::Failed | Fate::NotReplayable);
        !self.warnings.is_empty() || self.messages.iter().any(left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_arn_names_its_function_with_or_without_qualifier() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:cb:$LATEST"),
            "cb"
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:cb"),
            "cb"
        );
    }
}
