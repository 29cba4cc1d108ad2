//! How a subcommand's report is shown: a human-readable screen by default, one JSON
//! document with `--output json`; and the exit code it earns.

use std::process::ExitCode;

use dispatch::record::DispatchRecord;
use serde::Serialize;

use crate::error::OpsError;
use crate::progress::Progress;

/// `--output`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Tables and a verdict line, for a person.
    #[default]
    Table,
    /// One JSON document on stdout, for scripts (documented in README.md, "On call").
    Json,
}

/// Everything done, nothing wrong.
pub const OK: u8 = 0;
/// The subcommand ran and found a problem (or refused to act).
pub const PROBLEM: u8 = 1;
/// The subcommand could not run.
pub const COULD_NOT_RUN: u8 = 2;
/// `health` only: nothing it could check is off, but some checks could not be answered,
/// so the system is not known to be healthy.
pub const NOT_ALL_CHECKED: u8 = 3;

/// What a subcommand reports.
pub trait Report: Serialize {
    /// The screen a person reads.
    fn render(&self) -> String;
    /// Whether it found a problem or refused to act: exit code 1.
    fn found_problem(&self) -> bool;
    /// The exit code it earns: [`PROBLEM`] when it found a problem, else [`OK`].
    fn exit_code(&self) -> u8 {
        if self.found_problem() {
            PROBLEM
        } else {
            OK
        }
    }
}

/// Clears the progress line, prints `result` in `format` and returns its exit code.
pub fn finish<R: Report>(
    format: Format,
    progress: Progress,
    result: Result<R, OpsError>,
) -> ExitCode {
    progress.done();
    match result {
        Ok(report) => {
            match format {
                Format::Table => print!("{}", with_newline(report.render())),
                Format::Json => match serde_json::to_string_pretty(&report) {
                    Ok(json) => println!("{json}"),
                    Err(err) => return could_not_run(format, &err.to_string()),
                },
            }
            ExitCode::from(report.exit_code())
        }
        Err(err) => could_not_run(format, &err.to_string()),
    }
}

/// Reports an error on stderr (and, for scripts, as `{"error": ...}` on stdout).
pub fn could_not_run(format: Format, message: &str) -> ExitCode {
    eprintln!("outpost-ops: error: {message}");
    if format == Format::Json {
        print_error_document(message);
    }
    ExitCode::from(COULD_NOT_RUN)
}

/// `{"error": message}` on stdout: what a script that asked for JSON reads instead of a
/// report.
pub fn print_error_document(message: &str) {
    println!("{}", serde_json::json!({ "error": message }));
}

fn with_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Columns padded to their widest cell, two spaces apart.
#[derive(Clone, Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        // Every cell padded to its column's width, the end of the line trimmed.
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            padded.join("  ").trim_end().to_owned() + "\n"
        };
        let mut text = line(&self.headers);
        for row in &self.rows {
            text.push_str(&line(row));
        }
        text
    }
}

/// `label  value` lines, the labels padded to the longest.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(0);
    pairs
        .iter()
        .map(|(label, value)| format!("  {label:<width$}  {value}\n"))
        .collect()
}

/// Every attribute of a dispatch record, one aligned line each, by name.
pub fn record(record: &DispatchRecord) -> String {
    let text = record.to_text();
    let pairs: Vec<(&str, String)> = text.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    fields(&pairs)
}

/// A `warning:` line for each of `warnings` (what went wrong without changing the result).
pub fn warnings(warnings: &[String]) -> String {
    warnings
        .iter()
        .map(|warning| format!("\n  warning: {warning}\n"))
        .collect()
}

/// The verdict line that ends a screen.
pub fn verdict(problem: bool, text: &str) -> String {
    format!("\n{} {text}\n", if problem { "PROBLEM:" } else { "OK:" })
}

/// The verdict line of a screen that found nothing wrong but could not look at
/// everything: neither OK nor a problem.
pub fn unknown_verdict(text: &str) -> String {
    format!("\nUNKNOWN: {text}\n")
}

/// An optional value as a cell.
pub fn or_dash(value: Option<impl ToString>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_pads_every_column_but_the_last() {
        let mut table = Table::new(&["ID", "STATUS", "NOTE"]);
        table.row(vec!["d-1".into(), "RUNNING".into(), "old".into()]);
        table.row(vec!["dispatch-22".into(), "-".into(), "".into()]);
        assert_eq!(
            table.render(),
            "ID           STATUS   NOTE\n\
             d-1          RUNNING  old\n\
             dispatch-22  -\n"
        );
    }

    #[test]
    fn fields_align_their_values() {
        assert_eq!(
            fields(&[("rule", "ENABLED".into()), ("function", "f".into())]),
            "  rule      ENABLED\n  function  f\n"
        );
    }
}
