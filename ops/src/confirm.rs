//! Asking a person before a change: `--yes` answers for them; with no terminal to ask
//! and no `--yes`, nothing is changed.

use std::io::{BufRead, IsTerminal, Write};

/// Asks `question`; the person must type `expected` (a word that proves they read it).
/// Returns why nothing is to be done, for the report; `None` once confirmed.
pub fn refusal(
    question: &str,
    expected: &str,
    assume_yes: bool,
) -> std::io::Result<Option<&'static str>> {
    if assume_yes {
        return Ok(None);
    }
    if !std::io::stdin().is_terminal() {
        return Ok(Some(
            "no terminal to confirm on and no --yes: nothing was changed",
        ));
    }
    let mut stderr = std::io::stderr().lock();
    write!(stderr, "{question} Type {expected:?} to go on: ")?;
    stderr.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok((line.trim() != expected).then_some("not confirmed: nothing was changed"))
}
