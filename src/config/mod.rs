//! Keymaps and themes: defaults embedded in the binary, user files merged over them. A broken
//! user file never stops meshdeck: it falls back and the console names the file and line.

pub mod file;
pub mod key;
pub mod keymap;
pub mod ssh;
pub mod theme;

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// `$XDG_CONFIG_HOME/meshdeck` (or the platform's config dir).
pub fn config_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(dirs::config_dir)
        .map(|d| d.join("meshdeck"))
}

/// 1-based line of byte offset `at` in `text`.
pub fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// Line where `key = ...` is written at the top level or in a table.
pub fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| defines(l, key))
        .map_or(1, |i| i + 1)
}

/// Whether a TOML line sets `key` (`key = …` or `"key" = …`).
pub fn defines(line: &str, key: &str) -> bool {
    let t = line.trim_start().trim_start_matches('"');
    t.starts_with(key)
        && t[key.len()..]
            .trim_start()
            .trim_start_matches('"')
            .trim_start()
            .starts_with('=')
}

pub fn read_user_file(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}
