//! Reading a flight recording back (`meshdeck replay FILE`): `FILE.1` first when the recorder
//! rotated, then `FILE`, streamed line by line, each with its place for an error.

use crate::model::timeline::replay::{Loaded, Replay};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// More lines than two full files of the recorder hold; a longer file is cut, and said.
pub const MAX_LINES: usize = 4_000_000;

pub fn read(path: &Path) -> std::io::Result<Loaded> {
    let mut older = path.as_os_str().to_owned();
    older.push(".1");
    let older = PathBuf::from(older);
    // The newest file must be there; the one before it only if the recorder rotated.
    let newest = std::fs::File::open(path)?;
    let mut files = Vec::new();
    if let Ok(f) = std::fs::File::open(&older) {
        files.push((older, f));
    }
    files.push((path.to_path_buf(), newest));
    let lines = files.into_iter().flat_map(|(p, f)| {
        let name = p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        std::io::BufReader::new(f)
            .split(b'\n')
            .enumerate()
            .map(move |(i, line)| {
                let text = line
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .map_err(|e| format!("cannot be read: {e}"));
                (format!("{name}:{}", i + 1), text)
            })
    });
    let mut counted = 0usize;
    let cut = std::cell::Cell::new(false);
    let bounded = lines.take_while(|_| {
        counted += 1;
        let more = counted <= MAX_LINES;
        if !more {
            cut.set(true);
        }
        more
    });
    let mut loaded = Replay::read(path.display().to_string(), bounded);
    if cut.get() {
        loaded.unread += 1;
        loaded.problems.push(format!(
            "longer than {MAX_LINES} lines: the rest was left out"
        ));
    }
    Ok(loaded)
}
