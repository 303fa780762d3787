//! A replay (`meshdeck replay FILE`): the recording's registry and changes in place of a
//! source, and moving through it (`[` `]` a recorded moment, `{` `}` a minute, `:at TIME`).
//! Every screen shows the registry as it was at the moment shown; the Timeline shows what
//! had happened by then.

use crate::model::object::Kind;
use crate::model::timeline::replay::{Loaded, Replay};
use crate::state::dirty::Dirty;
use crate::state::{Level, RowId, State};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MINUTE: Duration = Duration::from_secs(60);

/// The recording is read: it becomes the registry and the Timeline.
pub fn loaded(state: &mut State, loaded: Loaded) {
    let Loaded {
        replay,
        changes,
        store,
        unread,
        problems,
    } = loaded;
    for s in replay.steps() {
        state
            .timeline
            .versions
            .record_shared(s.at, s.key.clone(), s.before.clone());
    }
    state.timeline.changes = changes;
    // Nothing is read from a cluster's history or a file afterwards: the recording is all.
    state
        .timeline
        .read
        .extend(Kind::ALL.map(|k| (crate::model::cluster::Cluster::ONLY, k)));
    state.timeline.files_read = true;
    state.registry.store = store;
    let empty = !replay.has_objects();
    state.timeline.replay = Some(replay);
    state.ui.status = if unread > 0 {
        Some((
            Level::Error,
            format!(
                "{unread} line(s) of the recording could not be read and were left out: {}",
                problems.join("; ")
            ),
        ))
    } else if empty {
        Some((
            Level::Info,
            "this recording holds changes but no objects (recorded by an older meshdeck): the Timeline (8) shows them, the registry is empty".into(),
        ))
    } else {
        None
    };
    shown(state);
}

fn shown(state: &mut State) {
    let Some(r) = state.timeline.replay.as_ref() else {
        return;
    };
    // The moment itself is in the title bar.
    state.setup.source_label = format!("replay {}", r.source);
    state.refresh_findings();
    state.registry.dirty |= Dirty::ROWS | Dirty::PREVIEW;
}

fn not_replaying(state: &mut State) {
    state.ui.status = Some((
        Level::Error,
        "only in a replay: meshdeck replay FILE opens a recording made with --record FILE".into(),
    ));
}

pub fn go(state: &mut State, to: SystemTime) {
    let Some(r) = state.timeline.replay.as_mut() else {
        return not_replaying(state);
    };
    let to = r.clamp(to);
    r.move_to(to, &mut state.registry.store);
    shown(state);
}

/// `[` and `]`: one recorded moment back or on.
pub fn step(state: &mut State, by: isize) {
    match state
        .timeline
        .replay
        .as_ref()
        .map(|r| r.moment_from_here(by))
    {
        None => not_replaying(state),
        Some(None) => {
            state.ui.status = Some((Level::Info, "the recording holds nothing to move to".into()))
        }
        Some(Some(to)) => go(state, to),
    }
}

/// `{` and `}`: a minute back or on.
pub fn minute(state: &mut State, back: bool) {
    match state
        .timeline
        .replay
        .as_ref()
        .map(|r| r.shifted(back, MINUTE))
    {
        None => not_replaying(state),
        Some(to) => go(state, to),
    }
}

/// `:at [TIME]`.
pub fn at(state: &mut State, arg: Option<&str>) {
    let Some(r) = state.timeline.replay.as_ref() else {
        return not_replaying(state);
    };
    let to = match arg {
        None => selected_change(state).ok_or_else(|| {
            "give a time (HH:MM[:SS] UTC, RFC 3339, -5m, +30s, start, end), or pick a change on the Timeline (8)".to_string()
        }),
        Some(text) => parse_moment(text, r.at(), r.first(), r.last()),
    };
    match to {
        Ok(to) => go(state, to),
        Err(e) => state.ui.status = Some((Level::Error, format!(":at: {e}"))),
    }
}

fn selected_change(state: &State) -> Option<SystemTime> {
    match state.list()?.selected_row()? {
        RowId::Change(i) => state.timeline.changes.get(*i).map(|c| c.at),
        _ => None,
    }
}

/// A moment in a recording as `--at` or `:at` takes it, from its end.
pub fn replay_moment(text: &str, r: &Replay) -> Result<SystemTime, String> {
    parse_moment(text, r.at(), r.first(), r.last())
}

/// A moment as typed: `start`, `end`, `-5m`/`+30s` from `here`, RFC 3339, or `HH:MM[:SS]` on
/// the day shown (UTC, as the Timeline's times).
pub fn parse_moment(
    text: &str,
    here: SystemTime,
    first: Option<SystemTime>,
    last: Option<SystemTime>,
) -> Result<SystemTime, String> {
    let text = text.trim();
    let span = |s: &str| humantime::parse_duration(s).map_err(|e| format!("{s:?}: {e}"));
    match text {
        "start" | "begin" => return first.ok_or_else(|| "the recording is empty".into()),
        "end" | "now" => return last.ok_or_else(|| "the recording is empty".into()),
        _ => {}
    }
    if let Some(back) = text.strip_prefix('-') {
        return Ok(here.checked_sub(span(back)?).unwrap_or(UNIX_EPOCH));
    }
    if let Some(on) = text.strip_prefix('+') {
        return Ok(here + span(on)?);
    }
    if let Ok(t) = humantime::parse_rfc3339_weak(text) {
        return Ok(t);
    }
    let parts: Vec<u64> = text
        .split(':')
        .map(|p| p.parse::<u64>().map_err(|_| ()))
        .collect::<Result<_, _>>()
        .map_err(|_| {
            format!("{text:?} is not a time: HH:MM[:SS], RFC 3339, -5m, +30s, start or end")
        })?;
    let (h, m, s) = match parts.as_slice() {
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return Err(format!("{text:?} is not a time: HH:MM[:SS]")),
    };
    if h > 23 || m > 59 || s > 59 {
        return Err(format!("{text:?} is not a time of day"));
    }
    let secs = here.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let day = secs - secs % 86_400;
    Ok(UNIX_EPOCH + Duration::from_secs(day + h * 3600 + m * 60 + s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> SystemTime {
        humantime::parse_rfc3339_weak(s).unwrap()
    }

    #[test]
    fn moments_as_typed() {
        let here = t("2026-12-04T03:12:04Z");
        let (a, b) = (
            Some(t("2026-12-04T03:00:00Z")),
            Some(t("2026-12-04T04:00:00Z")),
        );
        let p = |s| parse_moment(s, here, a, b);
        assert_eq!(p("start"), Ok(a.unwrap()));
        assert_eq!(p("end"), Ok(b.unwrap()));
        assert_eq!(p("-5m"), Ok(t("2026-12-04T03:07:04Z")));
        assert_eq!(p("+30s"), Ok(t("2026-12-04T03:12:34Z")));
        assert_eq!(p("03:10"), Ok(t("2026-12-04T03:10:00Z")));
        assert_eq!(p("23:59:59"), Ok(t("2026-12-04T23:59:59Z")));
        assert_eq!(p("2026-12-03T10:00:00Z"), Ok(t("2026-12-03T10:00:00Z")));
        assert!(p("25:00").unwrap_err().contains("not a time of day"));
        assert!(p("soon").unwrap_err().contains("not a time"));
        assert!(p("-5 fortnights").is_err());
        assert!(parse_moment("start", here, None, None).is_err());
    }
}
