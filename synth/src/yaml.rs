//! The templates as YAML (`synth --format yaml`), for people who read and hand-check
//! CloudFormation that way.
//!
//! A YAML reader types a plain (unquoted) scalar by its look, and the two kinds of reader
//! in use look differently: PyYAML, which cfn-lint and the AWS CLI use, follows YAML 1.1,
//! where `2010-09-09` is a date, `yes`, `no`, `on` and `off` are booleans, `0755` is octal
//! and `1:30` is a number in base 60; a YAML 1.2 reader takes all of these as strings. A
//! template's `AWSTemplateFormatVersion` written plain is a date to one and a string to the
//! other. So every scalar this writer leaves plain is one no reader of either version can
//! type as anything but a string, and every other string is double-quoted.
//!
//! Why a writer of our own, with serde_yaml_ng only reading back: the serde_yaml family
//! (serde_yaml, archived; serde_yaml_ng, serde_norway, serde_yaml_bw) decides quoting by
//! YAML 1.2's rules alone, so it writes `2010-09-09` and `yes` plain (dtolnay/serde-yaml
//! #380, closed unfixed when the crate was archived), and its emitter takes no quoting
//! choice from its caller. A template is a JSON value, which block-style YAML writes in a
//! page of code; what that code cannot get wrong unseen is checked on every write
//! ([`to_string`] reads its output back through serde_yaml_ng and compares) and, for
//! PyYAML, by `scripts/check-templates.sh`.

use std::fmt::Write;

use serde::Serialize;
use serde_yaml_ng::{Mapping, Number, Value};

/// The plain scalars that YAML 1.1 types as booleans (`y|Y|yes|Yes|YES|n|N|no|No|NO|true|
/// True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF`) or null (`null|Null|NULL`), compared
/// without case: a string spelled like one of these in any case is quoted.
const RESERVED: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

/// Spaces per level of nesting.
const INDENT: usize = 2;

/// What can keep a document from being written as YAML. Each is a fault of this writer or
/// of the document's type, never of a template's content; nothing is written.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    #[error("the document cannot be serialized: {0}")]
    Serialize(String),
    #[error("the YAML written does not read back as YAML: {0}")]
    Unreadable(String),
    #[error("the YAML written reads back differently from the document's JSON")]
    ReadsDifferently,
}

/// `document` as block-style YAML ending in a newline, fields in the order the document's
/// types give them (`Type` before `Properties`, as people write templates), checked to
/// read back (as YAML 1.2, through serde_yaml_ng) exactly as the document's JSON.
pub fn to_string(document: &impl Serialize) -> Result<String, YamlError> {
    let serialize = |err: &dyn std::fmt::Display| YamlError::Serialize(err.to_string());
    // serde_yaml_ng's value keeps a struct's field order; serde_json's sorts keys.
    let tree = untagged(serde_yaml_ng::to_value(document).map_err(|err| serialize(&err))?);
    let json = serde_json::to_value(document).map_err(|err| serialize(&err))?;
    let text = write(&tree);
    let read: serde_json::Value =
        serde_yaml_ng::from_str(&text).map_err(|err| YamlError::Unreadable(err.to_string()))?;
    if read != json {
        return Err(YamlError::ReadsDifferently);
    }
    Ok(text)
}

/// `value` with each enum variant as the one-entry map JSON makes of it (`{"Ref": ..}`)
/// where serde_yaml_ng makes a tag (`!Ref ..`, which only some readers take as a function).
fn untagged(value: Value) -> Value {
    match value {
        Value::Tagged(tagged) => {
            let name = tagged.tag.to_string();
            let name = name.strip_prefix('!').unwrap_or(&name).to_owned();
            let mut map = Mapping::new();
            map.insert(Value::String(name), untagged(tagged.value));
            Value::Mapping(map)
        }
        Value::Sequence(items) => Value::Sequence(items.into_iter().map(untagged).collect()),
        Value::Mapping(map) => Value::Mapping(
            map.into_iter()
                .map(|(key, value)| (untagged(key), untagged(value)))
                .collect(),
        ),
        scalar => scalar,
    }
}

/// `document` as block-style YAML, ending in a newline: the writer alone, unchecked.
pub fn write(document: &Value) -> String {
    let mut out = String::new();
    match block(document) {
        Some(Block::Map(map)) => write_map(&mut out, map, 0, false),
        Some(Block::Seq(items)) => write_seq(&mut out, items, 0),
        None => {
            write_inline(&mut out, document);
            out.push('\n');
        }
    }
    out
}

/// A collection written as a block, over several lines.
enum Block<'a> {
    Map(&'a Mapping),
    Seq(&'a [Value]),
}

/// `value` as a block, or nothing for a scalar or an empty collection (one line).
fn block(value: &Value) -> Option<Block<'_>> {
    match value {
        Value::Mapping(map) if !map.is_empty() => Some(Block::Map(map)),
        Value::Sequence(items) if !items.is_empty() => Some(Block::Seq(items)),
        _ => None,
    }
}

/// Each entry of `map` at `indent`; with `first_inline`, the first entry's key goes on the
/// current line (after a sequence's `- `).
fn write_map(out: &mut String, map: &Mapping, indent: usize, first_inline: bool) {
    for (index, (key, value)) in map.iter().enumerate() {
        if index > 0 || !first_inline {
            pad(out, indent);
        }
        write_inline(out, key);
        out.push(':');
        write_nested(out, value, indent, After::Key);
    }
}

/// What a nested value follows: a mapping key's `:`, or a sequence's `-`.
#[derive(Clone, Copy, PartialEq)]
enum After {
    Key,
    Dash,
}

/// Each item of `items` at `indent`, as `- item`.
fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push('-');
        write_nested(out, item, indent, After::Dash);
    }
}

/// What follows a key's `:` or a `-` at `indent`: a nested block on the next lines, or a
/// scalar (or an empty collection) on this one. After a `-`, a map's first key shares
/// the dash's line (`- key: value`) and its other keys go under the first.
fn write_nested(out: &mut String, value: &Value, indent: usize, after: After) {
    match block(value) {
        Some(Block::Map(map)) if after == After::Dash => {
            out.push(' ');
            write_map(out, map, indent + INDENT, true);
        }
        Some(Block::Map(map)) => {
            out.push('\n');
            write_map(out, map, indent + INDENT, false);
        }
        Some(Block::Seq(items)) => {
            out.push('\n');
            write_seq(out, items, indent + INDENT);
        }
        None => {
            out.push(' ');
            write_inline(out, value);
            out.push('\n');
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A scalar, or an empty collection, on one line.
fn write_inline(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_string(out, text),
        Value::Sequence(_) => out.push_str("[]"),
        Value::Mapping(_) => out.push_str("{}"),
        // `to_string` gives none (`untagged`); written as serde_yaml_ng writes one.
        Value::Tagged(tagged) => {
            let _ = write!(out, "{} ", tagged.tag);
            write_inline(out, &tagged.value);
        }
    }
}

/// A number in the one form both versions read as the same number: an integer in
/// decimal, or a float with a point and no exponent (YAML 1.1 reads `1e5` as a string,
/// and a float needs its point).
fn write_number(out: &mut String, number: &Number) {
    if number.is_i64() || number.is_u64() {
        out.push_str(&number.to_string());
        return;
    }
    let float = number.as_f64().unwrap_or_default();
    if !float.is_finite() {
        // JSON has no NaN or infinity, so `to_string`'s check refuses the document.
        out.push_str(if float.is_nan() {
            ".nan"
        } else if float < 0.0 {
            "-.inf"
        } else {
            ".inf"
        });
        return;
    }
    // Rust writes an f64 in full decimal, never with an exponent.
    let text = float.to_string();
    out.push_str(&text);
    if !text.contains('.') {
        out.push_str(".0");
    }
}

/// A string: plain when no reader of either version can take it for anything else,
/// double-quoted otherwise.
fn write_string(out: &mut String, text: &str) {
    if is_plain(text) {
        out.push_str(text);
    } else {
        write_quoted(out, text);
    }
}

/// Whether `text` can be written plain: it starts with a letter (every number, date,
/// time, null and special float of both versions starts with a digit, a sign, a point or
/// `~`), holds only letters, digits, spaces, `_-./(),';*+=` and colons not followed by a
/// space (which would start a mapping value), does not end in a space or colon, and is
/// not a YAML 1.1 boolean or null word in any case.
pub fn is_plain(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(first) = bytes.first() else {
        return false;
    };
    first.is_ascii_alphabetic()
        && !matches!(bytes.last(), Some(b' ' | b':'))
        && !text.contains(": ")
        && bytes.iter().all(|byte| {
            byte.is_ascii_alphanumeric()
                || matches!(
                    byte,
                    b' ' | b'_'
                        | b'-'
                        | b'.'
                        | b'/'
                        | b'('
                        | b')'
                        | b','
                        | b':'
                        | b'\''
                        | b';'
                        | b'*'
                        | b'+'
                        | b'='
                )
        })
        && !RESERVED.contains(&text.to_ascii_lowercase().as_str())
}

/// `text` double-quoted, escaping what both versions escape alike: the quote, the
/// backslash, line breaks and tabs, and every character YAML does not count as printable
/// (which a reader refuses to find raw), as `\uXXXX` or `\UXXXXXXXX`.
fn write_quoted(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            printable if is_printable(printable) => out.push(printable),
            other if u32::from(other) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", u32::from(other));
            }
            other => {
                let _ = write!(out, "\\U{:08X}", u32::from(other));
            }
        }
    }
    out.push('"');
}

/// YAML's printable characters, less the ones YAML 1.1 treats as line breaks (NEL, LS,
/// PS) and the byte order mark, which are safer escaped.
fn is_printable(character: char) -> bool {
    matches!(character,
        '\u{20}'..='\u{7E}'
        | '\u{A0}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FEFE}'
        | '\u{FF00}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
        && !matches!(character, '\u{2028}' | '\u{2029}')
}

#[cfg(test)]
mod tests;
