//! The flight recorder (`--record FILE`): every change the timeline records, appended as one
//! JSON line, in a file that never grows past a bound: when it would, it becomes `FILE.1`
//! (the one before is dropped) and a new `FILE` starts. Two files at most, however long the
//! console runs.

use crate::model::timeline::Change;
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
        })
    }

    pub fn write(&mut self, changes: &[Change]) -> std::io::Result<()> {
        for c in changes {
            let mut line = c.to_json().to_string();
            line.push('\n');
            let len = line.len() as u64;
            if self.written > 0 && self.written + len > self.max {
                self.rotate()?;
            }
            self.file.write_all(line.as_bytes())?;
            self.written += len;
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
        Ok(())
    }
}

/// The task that owns the recorder: batches of changes in, lines out. A write that fails is
/// logged once and the recording stops; the console goes on.
pub fn spawn(mut recorder: Recorder) -> mpsc::Sender<Vec<Change>> {
    let (tx, mut rx) = mpsc::channel::<Vec<Change>>(256);
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
    use crate::model::timeline::{ChangeKind, Origin, Seen};
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
            r.write(&[change(i)]).unwrap();
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
        again.write(&[change(500)]).unwrap();
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
    fn an_unwritable_place_is_said_at_once() {
        let err = Recorder::open(Path::new("/proc/no/such/place.jsonl"), MAX_BYTES);
        assert!(err.is_err());
    }
}
