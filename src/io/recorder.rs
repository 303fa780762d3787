//! The flight recorder (`--record FILE`): every change the timeline records, appended as one
//! JSON line, in a file that never grows past a bound: when it would, it becomes `FILE.1`
//! (the one before is dropped) and a new `FILE` starts. Two files at most, however long the
//! console runs. Each file is whole on its own: a new `FILE` starts with every object as it
//! is (the registry a replay starts from), then the changes and writes after.

use crate::model::object::ObjectKey;
use crate::model::timeline::recording::Line;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// Each of the two files stays under this.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

pub struct Recorder {
    path: PathBuf,
    max: u64,
    file: std::fs::File,
    written: u64,
    /// Each object as last written, again at the head of a rotated file (as its snapshot).
    objects: BTreeMap<ObjectKey, Line>,
}

impl Recorder {
    /// Opens (or goes on with) the recording; an unwritable path is said before the console
    /// starts, not lost later.
    pub fn open(path: &Path, max: u64) -> std::io::Result<Recorder> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let written = file.metadata()?.len();
        Ok(Recorder {
            path: path.to_path_buf(),
            max: max.max(1024),
            file,
            written,
            objects: BTreeMap::new(),
        })
    }

    pub fn write(&mut self, lines: &[Line]) -> std::io::Result<()> {
        for l in lines {
            let mut line = l.to_json().to_string();
            line.push('\n');
            let len = line.len() as u64;
            if self.written > 0 && self.written + len > self.max {
                self.rotate()?;
            }
            self.file.write_all(line.as_bytes())?;
            self.written += len;
            match l {
                Line::Object { at, object } | Line::Snapshot { at, object } => {
                    let snapshot = Line::Snapshot {
                        at: *at,
                        object: object.clone(),
                    };
                    self.objects.insert(object.key(), snapshot);
                }
                Line::Deleted { key, .. } => {
                    self.objects.remove(key);
                }
                Line::Reset { .. } => self.objects.clear(),
                Line::Change(_) => {}
            }
        }
        self.file.flush()
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        std::fs::rename(&self.path, PathBuf::from(old))?;
        self.file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.written = 0;
        for l in self.objects.values() {
            let mut line = l.to_json().to_string();
            line.push('\n');
            self.file.write_all(line.as_bytes())?;
            self.written += line.len() as u64;
        }
        Ok(())
    }
}

/// The task that owns the recorder: batches of changes in, lines out. A write that fails is
/// logged once and the recording stops; the console goes on.
pub fn spawn(mut recorder: Recorder) -> mpsc::Sender<Vec<Line>> {
    let (tx, mut rx) = mpsc::channel::<Vec<Line>>(256);
    tokio::spawn(async move {
        while let Some(batch) = rx.recv().await {
            if let Err(e) = recorder.write(&batch) {
                tracing::error!("the recording {} stopped: {e}", recorder.path.display());
                return;
            }
        }
    });
    tx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::timeline::{Change, ChangeKind, Origin, Seen};
    use std::time::{Duration, UNIX_EPOCH};

    fn change(i: u64) -> Change {
        Change {
            at: UNIX_EPOCH + Duration::from_secs(1_800_000_000 + i),
            kind: ChangeKind::Registry,
            object: None,
            target: "x".into(),
            field: format!("f{i}"),
            old: Seen::Unknown,
            new: Seen::Value(i.to_string()),
            who: None,
            origin: Origin::Watched,
        }
    }

    #[test]
    fn lines_are_json_and_two_bounded_files_hold_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec").join("timeline.jsonl");
        let mut r = Recorder::open(&path, 4096).unwrap();
        for i in 0..500 {
            r.write(&[Line::Change(change(i))]).unwrap();
        }
        let now = std::fs::read_to_string(&path).unwrap();
        let before = std::fs::read_to_string(dir.path().join("rec/timeline.jsonl.1")).unwrap();
        assert!(
            now.len() <= 4096 && before.len() <= 4096,
            "{} {}",
            now.len(),
            before.len()
        );
        let last: serde_json::Value = serde_json::from_str(now.lines().last().unwrap()).unwrap();
        assert_eq!(last["field"], "f499");
        assert_eq!(last["origin"], "watch");
        // What the two files hold runs on without a gap.
        let fields: Vec<u64> = before
            .lines()
            .chain(now.lines())
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| v["field"].as_str().unwrap()[1..].parse().unwrap())
            .collect();
        assert!(fields.windows(2).all(|w| w[1] == w[0] + 1), "{fields:?}");
        assert_eq!(*fields.last().unwrap(), 499);
        // A console started again goes on with the same file.
        drop(r);
        let mut again = Recorder::open(&path, 4096).unwrap();
        again.write(&[Line::Change(change(500))]).unwrap();
        let now = std::fs::read_to_string(&path).unwrap();
        assert!(
            now.contains("\"f499\"")
                || std::fs::read_to_string(dir.path().join("rec/timeline.jsonl.1"))
                    .unwrap()
                    .contains("\"f499\"")
        );
        assert!(now.lines().last().unwrap().contains("\"f500\""));
    }

    #[test]
    fn a_rotated_file_starts_with_every_object_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("timeline.jsonl");
        let mut r = Recorder::open(&path, 4096).unwrap();
        let we = |name: &str, weight: u32| Line::Object {
            at: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            object: Box::new(
                crate::model::object::Object::from_value(
                    serde_json::json!({"apiVersion": "networking.istio.io/v1",
                        "kind": "WorkloadEntry", "metadata": {"name": name, "namespace": "a"},
                        "spec": {"address": "10.0.0.1", "weight": weight}}),
                    "a",
                )
                .unwrap(),
            ),
        };
        r.write(&[we("vm1", 1), we("vm2", 2), we("vm1", 3)])
            .unwrap();
        r.write(&[Line::Deleted {
            at: UNIX_EPOCH + Duration::from_secs(1_800_000_001),
            key: ObjectKey::new(crate::model::object::Kind::WorkloadEntry, "a", "vm2"),
        }])
        .unwrap();
        for i in 0..100 {
            r.write(&[Line::Change(change(i))]).unwrap();
        }
        let now = std::fs::read_to_string(&path).unwrap();
        let first: serde_json::Value = serde_json::from_str(now.lines().next().unwrap()).unwrap();
        assert_eq!(first["type"], "snapshot");
        assert_eq!(first["object"]["metadata"]["name"], "vm1");
        assert_eq!(first["object"]["spec"]["weight"], 3, "its newest line");
        assert!(!now.contains("\"vm2\""), "deleted before the rotation");
        // Read back, the newest file alone already holds the registry.
        std::fs::remove_file(dir.path().join("timeline.jsonl.1")).unwrap();
        let loaded = crate::io::replay::read(&path).unwrap();
        assert_eq!(loaded.unread, 0);
        assert_eq!(loaded.store.len(), 1);
    }

    #[test]
    fn an_unwritable_place_is_said_at_once() {
        let err = Recorder::open(Path::new("/proc/no/such/place.jsonl"), MAX_BYTES);
        assert!(err.is_err());
    }
}
