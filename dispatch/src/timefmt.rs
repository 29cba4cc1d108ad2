//! The one timestamp format written to the table.

use chrono::{DateTime, SecondsFormat, Utc};

/// Formats as `YYYY-MM-DDTHH:MM:SSZ`, the format the runbook's manual update and its
/// "older than 1 hour" scan compare against as strings.
pub fn record_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_fraction_and_uses_z() {
        let at = DateTime::parse_from_rfc3339("2020-05-07T19:39:31.932+00:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(record_timestamp(at), "2020-05-07T19:39:31Z");
    }
}
