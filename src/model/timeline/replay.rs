//! A flight recording opened again: its changes for the Timeline, and the registry at any
//! moment of it. The registry starts as it was at the recording's end; scrubbing back undoes
//! writes one by one (each step keeps the object before and after it, shared with the steps
//! next to it), so a move costs the writes between two moments, never a rebuild.

use super::Timeline;
use super::recording::Line;
use crate::model::object::ObjectKey;
use crate::model::store::{Entry, Store};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// One write the recording holds.
#[derive(Debug, Clone)]
pub struct Step {
    pub at: SystemTime,
    pub key: ObjectKey,
    /// None: the object did not exist.
    pub before: Option<Arc<Entry>>,
    pub after: Option<Arc<Entry>>,
}

#[derive(Debug, Clone)]
pub struct Replay {
    /// What the title names.
    pub source: String,
    steps: VecDeque<Step>,
    /// How many steps the registry holds now (`steps[..applied]`).
    applied: usize,
    /// Every second something was recorded at, in order: where scrubbing stops.
    moments: Vec<SystemTime>,
    at: SystemTime,
    /// Writes older than the kept ones: the registry cannot be taken back before them.
    dropped: u64,
}

/// A recording read whole.
#[derive(Debug)]
pub struct Loaded {
    pub replay: Replay,
    pub changes: Timeline,
    /// The registry at the recording's end.
    pub store: Store,
    /// Lines that could not be read (counted; the first few said with where they are).
    pub unread: u64,
    pub problems: Vec<String>,
}

impl Replay {
    /// Writes kept for scrubbing back (about 100 MiB of real-sized entries at most).
    pub const STEP_CAP: usize = 200_000;
    const PROBLEMS_SAID: usize = 5;

    /// Reads lines in the order they were written (the older file first), each with where it
    /// is for an error ("timeline.jsonl.1:17"), or why it could not be read.
    pub fn read(
        source: impl Into<String>,
        lines: impl IntoIterator<Item = (String, Result<String, String>)>,
    ) -> Loaded {
        let mut changes = Timeline::default();
        let mut steps = VecDeque::new();
        let mut current: HashMap<ObjectKey, Arc<Entry>> = HashMap::new();
        let mut moments = BTreeSet::new();
        let (mut unread, mut problems, mut dropped) = (0u64, Vec::new(), 0u64);
        // Recorded times only move forward: a line older than the last write (a snapshot
        // written again at the head of a rotated file) happens when it is read.
        let mut last = SystemTime::UNIX_EPOCH;
        // Snapshots before the first write are one moment, the recording's start: a cluster's
        // kinds are listed one after another, and the registry is whole only after the last.
        let mut start: Option<SystemTime> = None;
        let mut written = false;
        let mut push = |steps: &mut VecDeque<Step>, step: Step| {
            steps.push_back(step);
            if steps.len() > Replay::STEP_CAP {
                steps.pop_front();
                dropped += 1;
            }
        };
        for (place, text) in lines {
            if text.as_ref().is_ok_and(|t| t.trim().is_empty()) {
                continue;
            }
            let line = match text.and_then(|t| Line::parse(&t)) {
                Ok(l) => l,
                Err(e) => {
                    unread += 1;
                    if problems.len() < Replay::PROBLEMS_SAID {
                        problems.push(format!("{place}: {e}"));
                    }
                    continue;
                }
            };
            let at = match &line {
                Line::Snapshot { .. } if !written => *start.get_or_insert(line.at().max(last)),
                _ => line.at().max(last),
            };
            match &line {
                Line::Object { .. } | Line::Deleted { .. } => written = true,
                // The next context's lists are a start again.
                Line::Reset { .. } => (written, start) = (false, None),
                Line::Snapshot { .. } | Line::Change(_) => {}
            }
            match line {
                Line::Change(c) => {
                    moments.insert(c.at);
                    changes.push(c);
                    continue;
                }
                Line::Object { object, .. } | Line::Snapshot { object, .. } => {
                    let key = object.key();
                    if current.get(&key).is_some_and(|e| e.object == *object) {
                        continue;
                    }
                    let after = Arc::new(Entry {
                        object: *object,
                        origin: None,
                    });
                    let before = current.insert(key.clone(), after.clone());
                    push(
                        &mut steps,
                        Step {
                            at,
                            key,
                            before,
                            after: Some(after),
                        },
                    );
                }
                Line::Deleted { key, .. } => {
                    let Some(before) = current.remove(&key) else {
                        continue;
                    };
                    push(
                        &mut steps,
                        Step {
                            at,
                            key,
                            before: Some(before),
                            after: None,
                        },
                    );
                }
                Line::Reset { .. } => {
                    let mut gone: Vec<_> = current.drain().collect();
                    gone.sort_by(|a, b| a.0.cmp(&b.0));
                    for (key, before) in gone {
                        let step = Step {
                            at,
                            key,
                            before: Some(before),
                            after: None,
                        };
                        push(&mut steps, step);
                    }
                }
            }
            last = at;
            moments.insert(at);
        }
        let mut store = Store::new();
        store.reserve(current.len());
        for e in current.into_values() {
            store.upsert(Arc::unwrap_or_clone(e));
        }
        // Before its first object the registry was never seen (the history read at start
        // tells of earlier times): the recording starts there.
        let moments: Vec<SystemTime> = match steps.front() {
            Some(first) => moments.range(first.at..).copied().collect(),
            None => moments.into_iter().collect(),
        };
        let replay = Replay {
            source: source.into(),
            applied: steps.len(),
            at: moments.last().copied().unwrap_or(SystemTime::UNIX_EPOCH),
            steps,
            moments,
            dropped,
        };
        Loaded {
            replay,
            changes,
            store,
            unread,
            problems,
        }
    }

    /// The moment the registry is shown at.
    pub fn at(&self) -> SystemTime {
        self.at
    }

    pub fn first(&self) -> Option<SystemTime> {
        self.moments.first().copied()
    }

    pub fn last(&self) -> Option<SystemTime> {
        self.moments.last().copied()
    }

    /// Which moment this is (1-based) of how many.
    pub fn position(&self) -> (usize, usize) {
        let i = self.moments.partition_point(|m| *m <= self.at);
        (i, self.moments.len())
    }

    /// Whether the recording holds objects at all (older recordings hold changes only).
    pub fn has_objects(&self) -> bool {
        !self.steps.is_empty()
    }

    /// The earliest moment the registry can be taken back to, when older writes were dropped.
    pub fn horizon(&self) -> Option<SystemTime> {
        (self.dropped > 0)
            .then(|| self.steps.front().map(|s| s.at))
            .flatten()
    }

    /// The writes kept, for "as it was" (`Versions`) to share.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter()
    }

    /// The moment `by` moments away from this one (negative: back), within the recording.
    pub fn moment_from_here(&self, by: isize) -> Option<SystemTime> {
        if self.moments.is_empty() {
            return None;
        }
        // The moment shown, or the last one before it when the cursor sits between two.
        let here = self.moments.partition_point(|m| *m <= self.at).max(1) - 1;
        let to = here.saturating_add_signed(by).min(self.moments.len() - 1);
        Some(self.moments[to])
    }

    /// `at` moved by a span, kept within the recording.
    pub fn shifted(&self, back: bool, by: Duration) -> SystemTime {
        let to = if back {
            self.at.checked_sub(by).unwrap_or(self.at)
        } else {
            self.at + by
        };
        self.clamp(to)
    }

    pub fn clamp(&self, to: SystemTime) -> SystemTime {
        match (self.first(), self.last()) {
            (Some(a), Some(b)) => to.clamp(a, b),
            _ => to,
        }
    }

    /// Brings `store` (the registry at `self.at`) to `to`: the writes between, forward or back.
    pub fn move_to(&mut self, to: SystemTime, store: &mut Store) {
        while let Some(s) = self.steps.get(self.applied).filter(|s| s.at <= to) {
            put(store, &s.key, s.after.as_deref());
            self.applied += 1;
        }
        while let Some(s) = self
            .applied
            .checked_sub(1)
            .and_then(|i| self.steps.get(i))
            .filter(|s| s.at > to)
        {
            put(store, &s.key, s.before.as_deref());
            self.applied -= 1;
        }
        self.at = to;
    }
}

fn put(store: &mut Store, key: &ObjectKey, entry: Option<&Entry>) {
    match entry {
        Some(e) => store.upsert(e.clone()),
        None => {
            store.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::object::{Kind, Object};
    use crate::model::timeline::{Change, ChangeKind, Origin, Seen};
    use serde_json::json;
    use std::time::UNIX_EPOCH;

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    fn we(name: &str, weight: u32) -> Object {
        Object::from_value(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
                   "metadata": {"name": name, "namespace": "ns1"},
                   "spec": {"address": "10.0.0.1", "weight": weight}}),
            "ns1",
        )
        .unwrap()
    }

    fn object(at: u64, o: Object) -> Line {
        Line::Object {
            at: t(at),
            object: Box::new(o),
        }
    }

    fn change(at: u64, field: &str) -> Line {
        Line::Change(Change {
            at: t(at),
            kind: ChangeKind::Registry,
            object: Some(ObjectKey::new(Kind::WorkloadEntry, "ns1", "vm1")),
            target: String::new(),
            field: field.into(),
            old: Seen::Value("1".into()),
            new: Seen::Absent,
            who: Some("alice".into()),
            origin: Origin::Watched,
        })
    }

    /// Lines as the recorder writes them, read back as `replay` reads them.
    fn read(lines: &[Line]) -> Loaded {
        let text: Vec<_> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("rec:{}", i + 1), Ok(l.to_json().to_string())))
            .collect();
        Replay::read("rec", text)
    }

    fn weight(store: &Store, name: &str) -> Option<u32> {
        match store.get(&ObjectKey::new(Kind::WorkloadEntry, "ns1", name)) {
            Some(Entry {
                object: Object::WorkloadEntry(w),
                ..
            }) => w.spec.weight,
            _ => None,
        }
    }

    #[test]
    fn every_line_reads_back_as_it_was_written() {
        let key = ObjectKey::new(Kind::WorkloadEntry, "ns1", "vm1");
        for line in [
            object(1, we("vm1", 5)),
            Line::Deleted { at: t(2), key },
            Line::Reset { at: t(3) },
            change(4, "spec.weight"),
        ] {
            let text = line.to_json().to_string();
            assert_eq!(Line::parse(&text), Ok(line), "{text}");
        }
        // A change line is what `meshdeck changes -o json` prints: no type.
        assert!(change(4, "x").to_json().get("type").is_none());
        assert!(Line::parse("{").unwrap_err().contains("not JSON"));
        assert!(
            Line::parse(r#"{"type":"object","time":"2026-12-04T03:00:00Z"}"#)
                .unwrap_err()
                .contains("without object")
        );
        assert!(
            Line::parse(r#"{"type":"later","time":"2026-12-04T03:00:00Z"}"#)
                .unwrap_err()
                .contains("unknown line type")
        );
    }

    #[test]
    fn scrubbing_shows_the_registry_as_it_was_and_comes_back() {
        let lines = [
            object(0, we("vm1", 10)),
            object(0, we("vm2", 1)),
            change(5, "spec.weight"),
            object(5, we("vm1", 50)),
            object(6, we("vm1", 50)), // the same again (a file read twice): no step
            Line::Deleted {
                at: t(9),
                key: ObjectKey::new(Kind::WorkloadEntry, "ns1", "vm2"),
            },
            object(12, we("vm3", 7)),
        ];
        let Loaded {
            mut replay,
            mut store,
            changes,
            unread,
            ..
        } = read(&lines);
        assert_eq!(unread, 0);
        assert_eq!(changes.len(), 1);
        assert!(replay.has_objects());
        // It opens at the end.
        assert_eq!(replay.at(), t(12));
        assert_eq!(replay.position(), (4, 4), "moments 0, 5, 9, 12");
        assert_eq!(
            (
                weight(&store, "vm1"),
                weight(&store, "vm2"),
                weight(&store, "vm3")
            ),
            (Some(50), None, Some(7))
        );
        let back = replay.moment_from_here(-1).unwrap();
        assert_eq!(back, t(9));
        replay.move_to(back, &mut store);
        assert_eq!(weight(&store, "vm3"), None, "created at 12");
        replay.move_to(t(4), &mut store);
        assert_eq!(
            (weight(&store, "vm1"), weight(&store, "vm2")),
            (Some(10), Some(1))
        );
        // Between two moments, a step back goes to the one before.
        assert_eq!(replay.moment_from_here(0), Some(t(0)));
        assert_eq!(replay.moment_from_here(-5), Some(t(0)));
        // And forward again to the end, where it started.
        let end = replay.moment_from_here(10).unwrap();
        replay.move_to(end, &mut store);
        assert_eq!(
            (
                weight(&store, "vm1"),
                weight(&store, "vm2"),
                weight(&store, "vm3")
            ),
            (Some(50), None, Some(7))
        );
        assert_eq!(replay.shifted(true, Duration::from_secs(600)), t(0));
        assert_eq!(replay.shifted(false, Duration::from_secs(600)), t(12));
    }

    #[test]
    fn history_from_before_the_first_object_is_shown_but_not_stopped_at() {
        let Loaded { replay, .. } = read(&[change(1, "old"), object(5, we("vm1", 3))]);
        assert_eq!(replay.first(), Some(t(5)));
        assert_eq!(replay.position(), (1, 1));
    }

    #[test]
    fn the_kinds_listed_one_after_another_are_one_starting_moment() {
        let snapshot = |at: u64, o: Object| Line::Snapshot {
            at: t(at),
            object: Box::new(o),
        };
        let Loaded { replay, store, .. } = read(&[
            snapshot(1, we("vm1", 1)),
            snapshot(2, we("vm2", 2)),
            object(5, we("vm1", 9)),
            Line::Reset { at: t(6) },
            snapshot(7, we("vm7", 7)),
            snapshot(8, we("vm8", 8)),
        ]);
        assert_eq!(replay.first(), Some(t(1)));
        assert_eq!(
            replay.position(),
            (4, 4),
            "moments 1, 5, 6 and 7: {replay:?}"
        );
        assert_eq!(
            (weight(&store, "vm7"), weight(&store, "vm8")),
            (Some(7), Some(8))
        );
    }

    #[test]
    fn a_reset_empties_the_registry_and_a_rotated_snapshot_changes_nothing() {
        let lines = [
            object(0, we("vm1", 10)),
            Line::Reset { at: t(3) },
            object(4, we("vm9", 2)),
            // The head of a rotated file: what is already there, written again with its
            // older time.
            object(0, we("vm9", 2)),
        ];
        let Loaded {
            mut replay,
            mut store,
            ..
        } = read(&lines);
        assert_eq!(
            (weight(&store, "vm1"), weight(&store, "vm9")),
            (None, Some(2))
        );
        assert_eq!(replay.steps().count(), 3, "vm1, its reset, vm9");
        replay.move_to(t(2), &mut store);
        assert_eq!(
            (weight(&store, "vm1"), weight(&store, "vm9")),
            (Some(10), None)
        );
    }

    #[test]
    fn lines_that_cannot_be_read_are_counted_and_the_first_said() {
        let mut text: Vec<(String, Result<String, String>)> = (0..8)
            .map(|i| (format!("rec:{i}"), Ok(format!("not json {i}"))))
            .collect();
        text.push(("rec:9".into(), Err("cannot be read: bad disk".into())));
        text.push(("rec:10".into(), Ok(String::new())));
        text.push((
            "rec:11".into(),
            Ok(object(1, we("vm1", 3)).to_json().to_string()),
        ));
        let loaded = Replay::read("rec", text);
        assert_eq!(loaded.unread, 9, "the empty line is no error");
        assert_eq!(loaded.problems.len(), Replay::PROBLEMS_SAID);
        assert!(loaded.problems[0].starts_with("rec:0: not JSON"));
        assert_eq!(weight(&loaded.store, "vm1"), Some(3));
    }

    #[test]
    fn a_recording_without_objects_is_changes_only() {
        let loaded = read(&[change(1, "a"), change(2, "b")]);
        assert!(!loaded.replay.has_objects());
        assert_eq!(loaded.changes.len(), 2);
        assert_eq!(loaded.replay.position(), (2, 2));
        assert!(loaded.store.is_empty());
    }
}
