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
    /// The screen a person reads, ending with its verdict line.
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
    let report = match result {
        Ok(report) => report,
        Err(err) => return could_not_run(format, &err.to_string()),
    };
    match format {
        Format::Table => print!("{}", report.render()),
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(err) => return could_not_run(format, &err.to_string()),
        },
    }
    ExitCode::from(report.exit_code())
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

    /// The table; a `none` line when it has no row.
    pub fn render(&self) -> String {
        if self.rows.is_empty() {
            return or_none(String::new());
        }
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        // Every cell padded to its column's width, the end of the line trimmed.
        let line = |cells: &Vec<String>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            padded.join("  ").trim_end().to_owned() + "\n"
        };
        std::iter::once(&self.headers)
            .chain(&self.rows)
            .map(line)
            .collect()
    }
}

/// `label  value` lines, the labels padded to the longest.
pub fn fields<L: AsRef<str>>(pairs: &[(L, String)]) -> String {
    let widest = pairs.iter().map(|(label, _)| label.as_ref().len()).max();
    let width = widest.unwrap_or(0);
    pairs
        .iter()
        .map(|(label, value)| format!("  {:<width$}  {value}\n", label.as_ref()))
        .collect()
}

/// Every attribute of a dispatch record, one aligned line each, by name.
pub fn record(record: &DispatchRecord) -> String {
    fields(&Vec::from_iter(record.to_text()))
}

/// `text`, or a `none` line when there is nothing to show.
pub fn or_none(text: String) -> String {
    if text.is_empty() {
        "  none\n".to_owned()
    } else {
        text
    }
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
