//! `templates/acknowledged-changes.txt`: the changes `--fail-on` would stop that a pull
//! request means to make, one line each, reviewed with it:
//!
//! ```text
//! # logical ID, what is acknowledged, why
//! DispatchTable replace moving to a composite key; data copied by scripts/migrate-key.sh
//! ```
//!
//! Only lines the change itself adds count (a line already in the base acknowledged an
//! earlier change), so an old line can never wave a new replacement through.

use super::Finding;

/// Where the acknowledgements live, relative to the repository.
pub const FILE: &str = "templates/acknowledged-changes.txt";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acknowledgement {
    pub logical_id: String,
    pub finding: Finding,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Acknowledgements(Vec<Acknowledgement>);

impl Acknowledgements {
    /// The lines of `head` that `base` does not have. A malformed line is an error that
    /// names it, never silently ignored.
    pub fn added(base: &str, head: &str) -> Result<Acknowledgements, String> {
        let old: Vec<&str> = base.lines().map(str::trim).collect();
        let mut acknowledgements = Vec::new();
        for (number, line) in head.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || old.contains(&line) {
                continue;
            }
            let mut words = line.splitn(3, char::is_whitespace);
            let (id, finding, reason) = (words.next(), words.next(), words.next());
            let finding = finding.and_then(Finding::parse);
            match (id, finding, reason.map(str::trim).filter(|r| !r.is_empty())) {
                (Some(id), Some(finding), Some(reason)) => acknowledgements.push(Acknowledgement {
                    logical_id: id.to_owned(),
                    finding,
                    reason: reason.to_owned(),
                }),
                _ => {
                    return Err(format!(
                        "{FILE}:{}: expected `LogicalId replace|remove|widen reason`, got `{line}`",
                        number + 1
                    ))
                }
            }
        }
        Ok(Acknowledgements(acknowledgements))
    }

    pub fn find(&self, logical_id: &str, finding: Finding) -> Option<&Acknowledgement> {
        self.0
            .iter()
            .find(|ack| ack.logical_id == logical_id && ack.finding == finding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_new_well_formed_lines_count() {
        let base = "# header\nOldQueue remove gone for good\n";
        let head = "# header\nOldQueue remove gone for good\nDispatchTable replace new key\n";
        let added = Acknowledgements::added(base, head).unwrap();
        assert!(added.find("OldQueue", Finding::Remove).is_none());
        let ack = added.find("DispatchTable", Finding::Replace).unwrap();
        assert_eq!(ack.reason, "new key");
        let bad = Acknowledgements::added("", "DispatchTable replace\n").unwrap_err();
        assert!(bad.contains(":1:"), "{bad}");
        assert!(Acknowledgements::added("", "X grow because\n").is_err());
    }
}
