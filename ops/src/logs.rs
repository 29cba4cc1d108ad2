//! The functions' log lines, fetched from CloudWatch Logs and read: the JSON lines our
//! functions write, Lambda's platform lines (as text or as JSON, whatever the log
//! format), and the metrics lines, which are left out of what a person reads.

use serde::Serialize;
use serde_json::Value;

use crate::error::{aws, Result};

/// Which function a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Callback,
    Reconciler,
}

/// One log line, read.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub source: Source,
    /// Milliseconds since the epoch, as CloudWatch Logs stamps the line.
    pub timestamp: i64,
    pub time: String,
    /// ERROR, WARN, INFO ... for our lines; PLATFORM for Lambda's; `-` for other text.
    pub level: String,
    pub message: String,
    /// The dispatch the line is about, when it names one.
    pub dispatch_id: Option<String>,
    pub error: bool,
    pub cold_start: bool,
    /// An Embedded Metric Format line: counted, not shown.
    pub metrics: bool,
    /// The line as logged.
    pub raw: String,
}

/// The runbook's error search (`?ERROR ?Exception ?Error`), as a predicate.
pub fn looks_like_error(text: &str) -> bool {
    let words = ["ERROR", "Exception", "Error"];
    words.iter().any(|word| text.contains(word))
}

/// The fields of our JSON lines that are not shown as `name=value` extras.
const SHOWN_APART: [&str; 5] = ["timestamp", "level", "message", "span", "target"];

/// Reads one log line. Pure.
pub fn read(source: Source, timestamp: i64, raw: &str) -> Line {
    let time = chrono::DateTime::from_timestamp_millis(timestamp)
        .map(|at| at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default();
    let text = raw.trim_end();
    let mut line = Line {
        source,
        timestamp,
        time,
        level: "-".to_owned(),
        message: text.to_owned(),
        dispatch_id: None,
        error: looks_like_error(text),
        cold_start: text.starts_with("INIT_START"),
        metrics: false,
        raw: text.to_owned(),
    };
    let Ok(Value::Object(json)) = serde_json::from_str::<Value>(text) else {
        let platform = ["START ", "END ", "REPORT ", "INIT_START", "INIT_REPORT"];
        if platform.iter().any(|prefix| text.starts_with(prefix)) {
            line.level = "PLATFORM".to_owned();
        }
        return line;
    };
    if json.contains_key("_aws") {
        line.metrics = true;
        line.level = "METRICS".to_owned();
        line.error = false;
        return line;
    }
    let field = |name: &str| json.get(name).and_then(Value::as_str);
    if let Some(kind) = field("type").filter(|kind| kind.starts_with("platform.")) {
        // Lambda's JSON log format writes its platform lines as records.
        line.level = "PLATFORM".to_owned();
        line.message = kind.to_owned();
        line.cold_start = kind == "platform.initStart";
        line.error = false;
        return line;
    }
    let level = field("level").unwrap_or("-").to_uppercase();
    let message = field("message").unwrap_or_default();
    let mut extras: Vec<String> = json
        .iter()
        .filter(|(name, _)| !SHOWN_APART.contains(&name.as_str()))
        .map(|(name, value)| match value {
            Value::String(text) => format!("{name}={text}"),
            other => format!("{name}={other}"),
        })
        .collect();
    extras.sort();
    let in_span = json
        .get("span")
        .and_then(|span| span["dispatch_id"].as_str());
    line.dispatch_id = field("dispatch_id").or(in_span).map(str::to_owned);
    line.error = level == "ERROR" || looks_like_error(message);
    line.message = if extras.is_empty() {
        message.to_owned()
    } else {
        format!("{message}  {}", extras.join(" "))
    };
    line.level = level;
    line
}

/// What [`fetch`] found.
#[derive(Debug, Default)]
pub struct Fetched {
    /// The newest lines kept, oldest first.
    pub lines: Vec<Line>,
    /// Lines kept before the cut to the newest.
    pub matched: usize,
    /// Cold starts among every line read (kept or not).
    pub cold_starts: usize,
    /// Every page was read (else the window held more than [`MAX_PAGES`] pages).
    pub complete: bool,
}

/// The most pages one fetch reads (a page is up to 10,000 lines or 1 MB).
pub const MAX_PAGES: usize = 100;

/// The lines of `group` from `start_ms` on that match `pattern` (CloudWatch Logs' filter
/// syntax) and `keep`: the newest `limit` of them, oldest first.
pub async fn fetch(
    client: &aws_sdk_cloudwatchlogs::Client,
    source: Source,
    group: &str,
    pattern: Option<&str>,
    start_ms: i64,
    limit: usize,
    keep: impl Fn(&Line) -> bool,
) -> Result<Fetched> {
    let mut fetched = Fetched::default();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let output = client
            .filter_log_events()
            .log_group_name(group)
            .start_time(start_ms)
            .set_filter_pattern(pattern.map(str::to_owned))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(aws("FilterLogEvents", group))?;
        for event in output.events() {
            let at = event.timestamp().unwrap_or_default();
            let line = read(source, at, event.message().unwrap_or_default());
            fetched.cold_starts += usize::from(line.cold_start);
            if keep(&line) {
                fetched.matched += 1;
                fetched.lines.push(line);
            }
        }
        // Pages come oldest first per stream, not overall: keep twice the limit while
        // reading, then the newest `limit` of them.
        if fetched.lines.len() > limit.saturating_mul(2) {
            newest(&mut fetched.lines, limit);
        }
        token = output.next_token.filter(|next| !next.is_empty());
        if token.is_none() {
            fetched.complete = true;
            break;
        }
    }
    newest(&mut fetched.lines, limit);
    Ok(fetched)
}

/// Keeps the newest `limit` lines, oldest first.
pub fn newest(lines: &mut Vec<Line>, limit: usize) {
    lines.sort_by_key(|line| line.timestamp);
    if lines.len() > limit {
        lines.drain(..lines.len() - limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_json_lines_are_read_with_their_fields_and_dispatch() {
        let raw = r#"{"timestamp":"2026-01-15T19:39:31Z","level":"ERROR","message":"dispatch update failed","error":"DispatchNotFound","span":{"dispatch_id":"d-1","name":"invocation"}}"#;
        let line = read(Source::Callback, 0, raw);
        assert_eq!(line.level, "ERROR");
        assert!(line.error);
        assert_eq!(line.dispatch_id.as_deref(), Some("d-1"));
        assert_eq!(
            line.message,
            "dispatch update failed  error=DispatchNotFound"
        );
    }

    #[test]
    fn the_newest_lines_are_kept() {
        let mut lines: Vec<Line> = [5, 1, 4, 2, 3]
            .into_iter()
            .map(|t| read(Source::Callback, t, "x"))
            .collect();
        newest(&mut lines, 2);
        let times: Vec<i64> = lines.iter().map(|l| l.timestamp).collect();
        assert_eq!(times, [4, 5]);
    }

    #[test]
    fn cold_starts_count_in_either_log_format_and_metrics_are_not_errors() {
        assert!(
            read(
                Source::Callback,
                0,
                "INIT_START Runtime Version: provided:al2023.v90"
            )
            .cold_start
        );
        let json = r#"{"time":"2026-01-15T19:39:31Z","type":"platform.initStart","record":{"runtimeVersion":"x"}}"#;
        assert!(read(Source::Callback, 0, json).cold_start);
        let emf = r#"{"_aws":{"CloudWatchMetrics":[]},"DispatchUpdateErrors":1}"#;
        let line = read(Source::Callback, 0, emf);
        assert!(line.metrics && !line.error);
        assert_eq!(
            read(Source::Callback, 0, "START RequestId: r").level,
            "PLATFORM"
        );
        assert!(read(Source::Callback, 0, "Task timed out: ValidationException").error);
    }
}
