use super::*;

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::minutes(minutes)
}

const PACE: Pace = Pace {
    sweep: Duration::minutes(60),
    every: Duration::minutes(5),
};

fn position(n: u32) -> Position {
    Position {
        created_at: format!("2026-01-01T00:00:{n:02}Z"),
        dispatch_id: format!("d-{n}"),
    }
}

#[test]
fn a_cycle_is_planned_over_the_period_but_one_run() {
    assert_eq!(PACE.runs_per_cycle(), 11);
    let one = Pace {
        sweep: Duration::minutes(5),
        every: Duration::minutes(5),
    };
    assert_eq!(
        one.runs_per_cycle(),
        1,
        "a sweep as short as the schedule: every run"
    );
}

#[test]
fn the_share_is_the_size_over_the_runs_of_a_cycle() {
    let cursor = Cursor::fresh("RUNNING", at(0));
    assert_eq!(cursor.share(100_000, at(0), PACE), 9_091);
    assert_eq!(
        cursor.share(1_000, at(0), PACE),
        MIN_SHARE,
        "a small fleet: one page"
    );
    assert_eq!(cursor.share(0, at(0), PACE), MIN_SHARE);
}

/// Walking 100,000 dispatches run after run at the share each run is given ends the cycle
/// within the sweep period, and the next cycle starts over.
#[test]
fn a_cycle_of_100_000_ends_within_the_sweep_period() {
    let size = 100_000;
    let mut cursor = Cursor::fresh("RUNNING", at(0));
    let mut minute = 0;
    loop {
        let share = cursor.share(size, at(minute), PACE) as u64;
        let walked = share.min(size - cursor.cycle_walked);
        let end = cursor.cycle_walked + walked == size;
        let next = (!end).then(|| position(1));
        cursor = cursor.advanced(walked, next, at(minute));
        if end {
            break;
        }
        minute += 5;
    }
    assert!(minute < 60, "the cycle ended at minute {minute}");
    assert_eq!(cursor.last_cycle, Some(size));
    assert_eq!((&cursor.after, cursor.cycle_walked), (&None, 0));
    assert_eq!(cursor.cycle_started, at(minute));
    // The next cycle is planned over the same runs: the steady pace, n / 11.
    assert_eq!(cursor.share(size, at(minute + 5), PACE), 9_091);
}

/// A fleet that grew past the last cycle's count, or a cycle that fell behind (runs that
/// failed), is caught up: the share grows as the runs left shrink.
#[test]
fn a_late_cycle_catches_up() {
    let cursor = Cursor {
        after: Some(position(7)),
        cycle_walked: 50_000,
        last_cycle: Some(60_000),
        ..Cursor::fresh("RUNNING", at(0))
    };
    assert_eq!(cursor.share(60_000, at(5), PACE), 5_455, "the steady pace");
    assert_eq!(cursor.share(60_000, at(45), PACE), 5_455);
    assert_eq!(
        cursor.share(60_000, at(50), PACE),
        10_000,
        "the last planned run"
    );
    assert_eq!(
        cursor.share(60_000, at(90), PACE),
        10_000,
        "late: all that is left"
    );
    let grown = Cursor {
        cycle_walked: 70_000,
        ..cursor
    };
    assert_eq!(
        grown.share(60_000, at(90), PACE),
        5_455,
        "past the count: the pace"
    );
}

#[test]
fn advancing_keeps_the_place_and_bumps_the_version() {
    let cursor = Cursor::fresh("RUNNING", at(0));
    let moved = cursor.advanced(500, Some(position(3)), at(5));
    assert_eq!(moved.after, Some(position(3)));
    assert_eq!(moved.cycle_walked, 500);
    assert_eq!(
        moved.cycle_started,
        at(5),
        "the cycle began with its first page"
    );
    assert_eq!(
        moved.advanced(500, Some(position(4)), at(10)).cycle_started,
        at(5)
    );
    assert_eq!(moved.last_cycle, None);
    assert_eq!(moved.version, 1);
    let ended = moved.advanced(20, None, at(10));
    assert_eq!(ended.last_cycle, Some(520));
    assert_eq!(ended.version, 2);
}
