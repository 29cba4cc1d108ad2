//! Asking a person before a change: `--yes` answers for them; with no terminal to ask
//! and no `--yes`, nothing is changed.

use std::io::{BufRead, IsTerminal, Write};

/// How the question was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// No terminal to ask, and no `--yes`.
    NoTerminal,
}

/// Asks `question`; the person must type `expected` (a word that proves they read it).
pub fn ask(question: &str, expected: &str, assume_yes: bool) -> std::io::Result<Answer> {
    if assume_yes {
        return Ok(Answer::Yes);
    }
    if !std::io::stdin().is_terminal() {
        return Ok(Answer::NoTerminal);
    }
    let mut stderr = std::io::stderr().lock();
    write!(stderr, "{question} Type {expected:?} to go on: ")?;
    stderr.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(if line.trim() == expected {
        Answer::Yes
    } else {
        Answer::No
    })
}

impl Answer {
    /// Why nothing was done, for the report.
    pub fn refusal(self) -> Option<&'static str> {
        match self {
            Answer::Yes => None,
            Answer::No => Some("not confirmed: nothing was changed"),
            Answer::NoTerminal => {
                Some("no terminal to confirm on and no --yes: nothing was changed")
            }
        }
    }
}
