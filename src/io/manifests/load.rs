//! Reading manifest paths: files, or directories walked recursively for *.yaml / *.yml.

use super::parse::{LoadError, ParsedFile, parse_text};
use std::path::{Path, PathBuf};

pub fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Every manifest file under `roots`, sorted, without duplicates.
pub fn expand(roots: &[PathBuf]) -> (Vec<PathBuf>, Vec<LoadError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in roots {
        match std::fs::metadata(root) {
            Ok(m) if m.is_dir() => walk(root, &mut files, &mut errors),
            Ok(_) => files.push(root.clone()),
            Err(e) => errors.push(LoadError {
                file: root.clone(),
                line: 0,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            errors.push(LoadError {
                file: dir.to_path_buf(),
                line: 0,
                message: format!("cannot list directory: {e}"),
            });
            return;
        }
    };
    for entry in rd.flatten() {
        let p = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&p, files, errors),
            Ok(_) if is_manifest(&p) => files.push(p),
            _ => {}
        }
    }
}

pub fn load_file(path: &Path) -> ParsedFile {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_text(path, &text),
        Err(e) => ParsedFile {
            path: path.to_path_buf(),
            errors: vec![LoadError {
                file: path.to_path_buf(),
                line: 0,
                message: format!("cannot read: {e}"),
            }],
            ..Default::default()
        },
    }
}

/// Loads every manifest under `roots`.
pub fn load_all(roots: &[PathBuf]) -> (Vec<ParsedFile>, Vec<LoadError>) {
    let (files, errors) = expand(roots);
    (files.iter().map(|f| load_file(f)).collect(), errors)
}

/// A store holding every entry of `files`.
pub fn into_store(files: Vec<ParsedFile>) -> crate::model::store::Store {
    let mut store = crate::model::store::Store::new();
    for f in files {
        for e in f.entries {
            store.upsert(e);
        }
    }
    store
}
