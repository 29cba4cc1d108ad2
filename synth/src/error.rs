//! The ways `synth` can fail.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SynthError {
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },

    #[error("cannot write the template to standard output: {0}")]
    Stdout(io::Error),

    #[error("cannot read {what}: {source}")]
    Read { what: String, source: io::Error },

    #[error("no base template to compare with ({what}): {reason}")]
    Base { what: String, reason: String },

    #[error("{0}")]
    Acknowledgements(String),

    #[error("cannot read {what}: {reason}")]
    Parse { what: String, reason: String },

    #[error("cannot tell: {0}")]
    CannotTell(String),

    #[error("cannot write the template as YAML: {0}")]
    Yaml(#[from] crate::yaml::YamlError),
}
