//! What reading manifest files yields: their entries and their located errors.

use crate::model::store::Entry;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ParsedFile {
    pub path: PathBuf,
    pub entries: Vec<Entry>,
    pub errors: Vec<LoadError>,
    /// Documents of other kinds (Namespaces, Deployments...): not ours, not errors.
    pub skipped: usize,
    pub revision: String,
}
