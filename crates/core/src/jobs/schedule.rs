//! When the daily backup runs: at `schedule.backup_hour_utc` each day, unless a good backup of
//! that day already exists. The app's scheduler asks `next_run` and runs `backup::create` when
//! it is due; a system scheduler (cron, systemd timer) calls `strongroom backup create` instead.

use time::{Duration, OffsetDateTime, Time};

use crate::config::ScheduleSettings;

/// The next time the daily backup is due, given the newest good backup. A day whose slot has
/// passed without a backup is due at once (the workstation was off at the hour).
pub fn next_run(
    schedule: &ScheduleSettings,
    last_backup: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> OffsetDateTime {
    let hour = schedule.backup_hour_utc.min(23);
    let now = now.to_offset(time::UtcOffset::UTC);
    let slot = |day: time::Date| {
        day.with_time(Time::from_hms(hour, 0, 0).unwrap_or(Time::MIDNIGHT))
            .assume_utc()
    };
    let today = slot(now.date());
    let done_since = |t: OffsetDateTime| last_backup.is_some_and(|b| b >= t);
    if now >= today {
        if done_since(today) {
            today + Duration::days(1)
        } else {
            now
        }
    } else {
        let yesterday = today - Duration::days(1);
        if last_backup.is_some() && !done_since(yesterday) {
            // Yesterday's slot was missed: run now rather than wait for today's.
            now
        } else {
            today
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn at(hour: u8) -> ScheduleSettings {
        ScheduleSettings {
            backup_hour_utc: hour,
            ..ScheduleSettings::default()
        }
    }

    #[test]
    fn before_the_hour_the_run_is_today_at_the_hour() {
        let now = datetime!(2026-12-04 00:30 UTC);
        let last = Some(datetime!(2026-12-03 01:05 UTC));
        assert_eq!(next_run(&at(1), last, now), datetime!(2026-12-04 01:00 UTC));
    }

    #[test]
    fn after_the_hour_without_a_backup_the_run_is_now() {
        let now = datetime!(2026-12-04 09:00 UTC);
        let last = Some(datetime!(2026-12-03 01:05 UTC));
        assert_eq!(next_run(&at(1), last, now), now);
        assert_eq!(next_run(&at(1), None, now), now);
    }

    #[test]
    fn after_todays_backup_the_run_is_tomorrow() {
        let now = datetime!(2026-12-04 09:00 UTC);
        let last = Some(datetime!(2026-12-04 01:02 UTC));
        assert_eq!(next_run(&at(1), last, now), datetime!(2026-12-05 01:00 UTC));
    }

    #[test]
    fn a_missed_day_runs_at_once() {
        let now = datetime!(2026-12-04 00:30 UTC);
        let last = Some(datetime!(2026-12-01 01:00 UTC));
        assert_eq!(next_run(&at(1), last, now), now);
    }

    #[test]
    fn a_new_station_before_the_hour_waits_for_the_hour() {
        let now = datetime!(2026-12-04 00:30 UTC);
        assert_eq!(next_run(&at(1), None, now), datetime!(2026-12-04 01:00 UTC));
    }
}
