//! `outpost-ops`: the runbook's sections as subcommands.
//!
//! `main` parses and hands over to [`run`]; each subcommand is one file in `commands/`
//! with its options and an `exec` that returns a report ([`output::Report`]). The
//! readers of AWS state they share are `stack` (names), `records`, `tasks`, `parked`
//! (the queues) and `logs`.

pub mod cli;
pub mod commands;
pub mod confirm;
pub mod context;
pub mod error;
pub mod logs;
pub mod output;
pub mod parked;
pub mod progress;
pub mod stack;
pub mod tasks;

use std::process::ExitCode;

use cli::{Cli, Command};
use context::Context;

/// Runs one command line; returns its exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let ctx = match Context::connect(&cli.global).await {
        Ok(ctx) => ctx,
        Err(err) => {
            progress::Progress::new(true).done();
            return output::could_not_run(cli.global.output, &err.to_string());
        }
    };
    match cli.command {
        Command::Health(args) => ctx.finish(commands::health::exec(&ctx, args).await),
        Command::Diagnose(args) => ctx.finish(commands::diagnose::exec(&ctx, args).await),
        Command::Stuck(args) => ctx.finish(commands::stuck::exec(&ctx, args).await),
        Command::Settle(args) => ctx.finish(commands::settle::exec(&ctx, args).await),
        Command::Replay(args) => ctx.finish(commands::replay::exec(&ctx, args).await),
        Command::Rule(args) => ctx.finish(commands::rule::exec(&ctx, args).await),
        Command::Logs(args) if args.follow => match commands::logs::follow(&ctx, args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => output::could_not_run(ctx.format, &err.to_string()),
        },
        Command::Logs(args) => ctx.finish(commands::logs::exec(&ctx, args).await),
        Command::Reconcile(args) => ctx.finish(commands::reconcile::exec(&ctx, args).await),
    }
}
