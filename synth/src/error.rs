//! The ways `synth` can fail.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SynthError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },

    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },

    #[error("cannot write the template to standard output: {0}")]
    Stdout(io::Error),

    /// The file differs from what `synth` renders now.
    #[error("{} is stale; run `make templates` to refresh it.\n{diff}", path.display())]
    Stale { path: PathBuf, diff: String },
}

impl SynthError {
    /// The process exit code: 1 for a stale file (a finding), 2 for anything that kept
    /// `synth` from doing its job.
    pub fn exit_code(&self) -> u8 {
        match self {
            SynthError::Stale { .. } => 1,
            SynthError::Read { .. } | SynthError::Write { .. } | SynthError::Stdout(_) => 2,
        }
    }
}
