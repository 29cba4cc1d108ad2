//! What the tool is doing, on stderr, while it waits on AWS: only to a terminal, so
//! scripts and `--output json` see clean streams.

use std::io::{IsTerminal, Write};

/// One status line on stderr, overwritten by each step and cleared at the end.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Shows progress when `wanted` and stderr is a terminal.
    pub fn new(wanted: bool) -> Progress {
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
        }
    }

    /// Says what is being waited on.
    pub fn step(&self, what: &str) {
        self.show(&format!("… {what}"));
    }

    /// Clears the line, before the report is printed.
    pub fn done(&self) {
        self.show("");
    }

    fn show(&self, text: &str) {
        if self.enabled {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K{text}");
            let _ = stderr.flush();
        }
    }
}
