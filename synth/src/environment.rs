//! Environment files: `environments/<name>.json`, one per account and region, writing down
//! every setting the stack runs with (the template's parameters, but for those the build
//! gives), so that what production runs is in the repository and a deploy by name passes
//! every one of them explicitly. Each file is checked against the synthesized template.
//!
//! ```json
//! {"account": "123456789012", "region": "eu-west-1",
//!  "parameters": {"ClusterArn": "", "LogRetentionDays": 30, ...}}
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use contract::env::reconciler::Timing;
use serde::Deserialize;
use serde_json::Value;

use crate::cfn::{text, Template};
use crate::stack::parameters::{FROM_THE_BUILD, TIMING};
use crate::SynthError;

/// Where the environment files are, from the repository's root.
pub const DIR: &str = "environments";

/// One environment file, as written.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Environment {
    /// The AWS account a deploy must be made from (12 digits).
    pub account: String,
    pub region: String,
    /// The stack's name, where it is not the default.
    #[serde(default)]
    pub stack_name: Option<String>,
    /// Every setting: the template's parameter names and their values (a number for a
    /// `Number` parameter, a string otherwise).
    pub parameters: BTreeMap<String, Value>,
}

/// Something wrong with an environment file: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// The key at fault (`parameters.ClusterArn`, `account`), or `-` for the whole file.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file.display(), self.key, self.message)
    }
}

/// An environment checked against the template, with a value for every setting, ready
/// to deploy: what `synth env show` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub account: String,
    pub region: String,
    pub stack_name: String,
    /// Every parameter but the build's, as `aws cloudformation deploy` takes it.
    pub parameters: BTreeMap<String, String>,
    /// The one-off overrides among them, with the file's value each replaced.
    pub overrides: Vec<(String, String, String)>,
}

/// The environment file of `name` under `dir`.
pub fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

/// Reads one environment file; a file that is not one (bad JSON, an unknown or missing
/// key) is a problem naming the file.
pub fn read(file: &Path) -> Result<Environment, Problem> {
    let problem = |message: String| Problem {
        file: file.to_owned(),
        key: "-".to_owned(),
        message,
    };
    let text = std::fs::read_to_string(file).map_err(|err| problem(err.to_string()))?;
    serde_json::from_str(&text).map_err(|err| problem(err.to_string()))
}

/// Every problem of `environment` (read from `file`) against `template`: an account or
/// region that cannot be one, a parameter the template does not take or that comes from
/// the build, a value of the wrong type or outside its constraints, a setting missing,
/// and reconciler timings that contradict each other.
pub fn check(file: &Path, environment: &Environment, template: &Template) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |key: &str, message: String| {
        problems.push(Problem {
            file: file.to_owned(),
            key: key.to_owned(),
            message,
        })
    };
    if !(environment.account.len() == 12 && environment.account.bytes().all(|b| b.is_ascii_digit()))
    {
        problem(
            "account",
            format!(
                "{:?} is not an AWS account ID (12 digits)",
                environment.account
            ),
        );
    }
    if !is_region(&environment.region) {
        problem(
            "region",
            format!(
                "{:?} is not an AWS region (like eu-west-1)",
                environment.region
            ),
        );
    }
    if let Some(stack) = &environment.stack_name {
        if !is_stack_name(stack) {
            problem(
                "stackName",
                format!(
                    "{stack:?} is not a stack name (a letter, then letters, digits and \
                     hyphens, at most 128)"
                ),
            );
        }
    }
    for (name, value) in &environment.parameters {
        let key = format!("parameters.{name}");
        if FROM_THE_BUILD.contains(&name.as_str()) {
            problem(
                &key,
                "comes from the build (make deploy packages and uploads the code), not \
                 from the file"
                    .to_owned(),
            );
            continue;
        }
        match template.parameters.get(name) {
            None => problem(&key, "is not a parameter of the template".to_owned()),
            Some(parameter) => {
                if let Err(message) = parameter.check(value) {
                    problem(&key, message);
                }
            }
        }
    }
    for name in settings(template) {
        if !environment.parameters.contains_key(name) {
            problem(
                &format!("parameters.{name}"),
                "is missing: an environment writes down every setting (its default \
                 included, so that no deploy keeps what the last one left)"
                    .to_owned(),
            );
        }
    }
    if let Some(message) = contradiction(&environment.parameters) {
        let (name, text) = message;
        problem(&format!("parameters.{name}"), text);
    }
    problems
}

/// Reads and checks `name`'s file under `dir`, applies the one-off `overrides`
/// (`Parameter=value`, typed as the parameter is) and checks again.
pub fn resolve(
    dir: &Path,
    name: &str,
    overrides: &[(String, String)],
    template: &Template,
) -> Result<Resolved, Vec<Problem>> {
    let file = path(dir, name);
    if !is_environment_name(name) {
        return Err(vec![Problem {
            file,
            key: "-".to_owned(),
            message: format!(
                "{name:?} is not an environment name (lower-case letters, digits, hyphens)"
            ),
        }]);
    }
    let mut environment = read(&file).map_err(|problem| vec![problem])?;
    let mut replaced = Vec::new();
    for (parameter, given) in overrides {
        let value = match template.parameters.get(parameter) {
            Some(typed) if typed.is_number() => given
                .parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(given.clone())),
            _ => Value::String(given.clone()),
        };
        let was = environment
            .parameters
            .insert(parameter.clone(), value)
            .map_or_else(|| "(not in the file)".to_owned(), |value| text(&value));
        replaced.push((parameter.clone(), was, given.clone()));
    }
    let problems = check(&file, &environment, template);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Resolved {
        account: environment.account,
        region: environment.region,
        stack_name: environment
            .stack_name
            .unwrap_or_else(|| contract::resources::STACK.to_owned()),
        parameters: environment
            .parameters
            .iter()
            .map(|(name, value)| (name.clone(), text(value)))
            .collect(),
        overrides: replaced,
    })
}

/// Checks every `*.json` file of `dir`, in name order; the problems of all of them.
pub fn check_all(dir: &Path, template: &Template) -> Result<(usize, Vec<Problem>), SynthError> {
    let read_dir = std::fs::read_dir(dir).map_err(|source| SynthError::Read {
        what: dir.display().to_string(),
        source,
    })?;
    let mut files: Vec<PathBuf> = read_dir
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let stem = file
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("");
        if !is_environment_name(stem) {
            problems.push(Problem {
                file: file.clone(),
                key: "-".to_owned(),
                message: "is not named as an environment (lower-case letters, digits, \
                          hyphens; `make deploy ENV=name` finds it by that name)"
                    .to_owned(),
            });
        }
        match read(file) {
            Ok(environment) => problems.extend(check(file, &environment, template)),
            Err(problem) => problems.push(problem),
        }
    }
    Ok((files.len(), problems))
}

/// The settings an environment file writes down: every parameter but the build's.
pub fn settings(template: &Template) -> impl Iterator<Item = &str> {
    template
        .parameters
        .keys()
        .map(String::as_str)
        .filter(|name| !FROM_THE_BUILD.contains(name))
}

/// The reconciler's timings that contradict each other, if all four are numbers: the
/// parameter at fault and why, as the reconciler would refuse them at start.
fn contradiction(parameters: &BTreeMap<String, Value>) -> Option<(&'static str, String)> {
    let minutes = |(_, name): (contract::env::Var, &str)| parameters.get(name)?.as_u64();
    let timing = Timing {
        every: minutes(TIMING.every)? as i64,
        grace: minutes(TIMING.grace)? as i64,
        sweep: minutes(TIMING.sweep)? as i64,
        max_age: minutes(TIMING.max_age)? as i64,
    };
    let found = timing.contradiction()?;
    let name_of = |var: contract::env::Var| {
        TIMING
            .all()
            .into_iter()
            .find(|(each, _)| *each == var)
            .map_or(var.name, |(_, name)| name)
    };
    let with: Vec<String> = found
        .with
        .iter()
        .map(|(var, value)| format!("{}={value}", name_of(*var)))
        .collect();
    let text = format!(
        "{} contradicts {}: expected {}",
        found.value,
        with.join(" and "),
        found.expected
    );
    Some((name_of(found.var), text))
}

/// What `synth env show` prints: one fact a line, for the deploy scripts to read.
pub fn listing(resolved: &Resolved) -> String {
    let mut out = format!(
        "account {}\nregion {}\nstack {}\n",
        resolved.account, resolved.region, resolved.stack_name
    );
    for (name, value) in &resolved.parameters {
        out.push_str(&format!("parameter {name}={value}\n"));
    }
    for (name, was, now) in &resolved.overrides {
        out.push_str(&format!("override {name}={now} (the file says {was:?})\n"));
    }
    out
}

fn is_environment_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `xx-name-N` (`us-east-1`, `ap-southeast-2`, `us-gov-west-1`, `cn-north-1`).
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

fn is_stack_name(name: &str) -> bool {
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests;
