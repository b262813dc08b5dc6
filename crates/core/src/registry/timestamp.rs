//! Times in the registry: UTC, stored as fixed-width RFC 3339 text with microseconds
//! (`2026-12-03T17:56:17.123456Z`), so text order is time order.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::{Error, Result};

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Now, in UTC, truncated to the microsecond (what the registry can store).
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

/// The stored text of a time (converted to UTC first).
pub fn format(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_else(|_| unreachable!("a UTC time always formats"))
}

/// Parses stored text (or any RFC 3339 time, e.g. from a CLI filter).
pub fn parse(s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, FORMAT)
        .or_else(|_| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339))
        .map_err(|_| Error::Invalid {
            code: "time_invalid",
            field: "time",
            message: format!("`{s}` is not a time; write it as 2026-12-03T17:00:00Z"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_round_trips_and_sorts() {
        let a = now();
        let text = format(a);
        assert_eq!(text.len(), 27, "{text}");
        assert!(text.ends_with('Z'));
        assert_eq!(parse(&text).unwrap(), a);
        let b = a + time::Duration::microseconds(1);
        assert!(format(b) > text);
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let t = parse("2026-12-03T19:00:00+02:00").unwrap();
        assert_eq!(format(t), "2026-12-03T17:00:00.000000Z");
        assert_eq!(parse("yesterday").unwrap_err().code(), "time_invalid");
    }
}
