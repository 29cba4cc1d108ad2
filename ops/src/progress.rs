//! What the tool is doing, on stderr, while it waits on AWS: only to a terminal, so
//! scripts and `--output json` see clean streams.

use std::io::{IsTerminal, Write};

/// One status line on stderr, overwritten by each step and cleared at the end.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Shows progress when stderr is a terminal.
    pub fn on_terminal() -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
        }
    }

    /// Shows nothing.
    pub fn silent() -> Progress {
        Progress { enabled: false }
    }

    /// Says what is being waited on.
    pub fn step(&self, what: &str) {
        if self.enabled {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K… {what}");
            let _ = stderr.flush();
        }
    }

    /// Clears the line, before the report is printed.
    pub fn done(&self) {
        if self.enabled {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
    }
}
