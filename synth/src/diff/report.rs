//! `synth diff`'s words: one block per changed resource, a summary, and the verdict of
//! `--fail-on`.

use std::fmt::Write as _;

use super::{Acknowledgements, Action, Change, Finding};

/// The report of `changes`, and the findings `fail_on` stops that `acknowledged` does not
/// cover, one line each (empty: the change may go ahead).
pub fn render(
    changes: &[Change],
    fail_on: &[Finding],
    acknowledged: &Acknowledgements,
) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut blocking = Vec::new();
    for change in changes {
        describe(&mut out, change);
        verdicts(&mut out, &mut blocking, change, fail_on, acknowledged);
    }
    summary(&mut out, changes);
    (out, blocking)
}

/// A change's block: its header line, then what it changes, one line each.
fn describe(out: &mut String, change: &Change) {
    let _ = writeln!(out, "{}", header(change));
    for path in &change.paths {
        let property = super::paths::property(path);
        let replaces = change
            .replaced_by
            .iter()
            .any(|p| property == Some(p.as_str()));
        let note = replaces.then_some("  (replaces the resource)");
        let note = note.unwrap_or_default();
        let _ = writeln!(out, "    {path}{note}");
    }
    for (sign, grants) in [('+', &change.access.added), ('-', &change.access.dropped)] {
        for grant in grants {
            let _ = writeln!(out, "    access {sign} {grant}");
        }
    }
    for line in &change.weakened {
        let _ = writeln!(out, "    weakens: {line}");
    }
    for line in &change.unread {
        let _ = writeln!(out, "    look at: {line}");
    }
    if let Some(consequence) = consequence(change) {
        let _ = writeln!(out, "    data: {consequence}");
    }
}

/// `~ Id (Type): finding, ..., stateful`: the action's sign, the resource and its tags.
fn header(change: &Change) -> String {
    let sign = match change.action {
        Action::Add => '+',
        Action::Remove => '-',
        Action::Modify => '~',
    };
    let mut tags: Vec<&str> = change.findings().iter().map(|f| f.as_str()).collect();
    if change.stateful {
        tags.push("stateful");
    }
    let tags = if tags.is_empty() {
        String::new()
    } else {
        format!(": {}", tags.join(", "))
    };
    format!("{sign} {} ({}){tags}", change.logical_id, change.kind)
}

/// Each finding of `change` that `fail_on` stops: an acknowledged one is noted in the
/// block with its reason, any other blocks the change.
fn verdicts(
    out: &mut String,
    blocking: &mut Vec<String>,
    change: &Change,
    fail_on: &[Finding],
    acknowledged: &Acknowledgements,
) {
    for finding in change.findings() {
        if !fail_on.contains(&finding) {
            continue;
        }
        match acknowledged.find(&change.logical_id, finding) {
            Some(ack) => {
                let reason = &ack.reason;
                let _ = writeln!(out, "    acknowledged ({}): {reason}", finding.as_str());
            }
            None => blocking.push(blocked(change, finding)),
        }
    }
}

/// Why `finding` stops `change`, and the line that would acknowledge it.
fn blocked(change: &Change, finding: Finding) -> String {
    format!(
        "{} would {}.{} If that is intended, add the line `{} {} <why>` to {}.",
        change.logical_id,
        verb(finding),
        consequence(change).map_or(String::new(), |c| format!(" {c}")),
        change.logical_id,
        finding.as_str(),
        super::acknowledgements::FILE,
    )
}

/// The last line: how many resources changed, and how many of them in each way.
fn summary(out: &mut String, changes: &[Change]) {
    let count = |finding| {
        changes
            .iter()
            .filter(|c| c.findings().contains(&finding))
            .count()
    };
    let _ = writeln!(
        out,
        "{} resources changed: {} replaced, {} removed, {} widening access, {} weakening \
         protection, {} stateful",
        changes.len(),
        count(Finding::Replace),
        count(Finding::Remove),
        count(Finding::Widen),
        count(Finding::Weaken),
        changes.iter().filter(|c| c.stateful).count()
    );
}

fn verb(finding: Finding) -> &'static str {
    match finding {
        Finding::Replace => "be replaced",
        Finding::Remove => "be removed from the stack",
        Finding::Widen => "widen access, or change what synth cannot read for access",
        Finding::Weaken => "weaken what protects its data",
    }
}

/// What a replacement or removal does to a stateful resource's data, in words.
fn consequence(change: &Change) -> Option<String> {
    if !change.stateful {
        return None;
    }
    let what = match &change.name {
        Some(name) => format!("`{name}`"),
        None => "it".to_owned(),
    };
    if !change.replaced_by.is_empty() {
        let fixed = if change.name.is_some() {
            format!(
                " With the fixed name {what} the update fails: CloudFormation creates the \
                 new resource before it lets go of the old one, and the name is taken."
            )
        } else {
            String::new()
        };
        let old = if change.retained_on_replace {
            "the old one and its data are left outside the stack (Retain), and the stack \
             points at a new, empty one"
        } else {
            "the old one is deleted with its data after a new, empty one is created"
        };
        return Some(format!("{what} would be replaced: {old}.{fixed}"));
    }
    if change.action == Action::Remove {
        return Some(if change.retained {
            format!("{what} would leave the stack but stay in the account (Retain).")
        } else {
            format!("{what} would be deleted with everything in it.")
        });
    }
    None
}
