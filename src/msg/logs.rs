//! A VM sidecar's log, read over ssh: what the console asks for and what the reader reports.

use crate::model::object::ObjectKey;

/// Read `command` on `destination` for the WorkloadEntry `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    pub key: ObjectKey,
    /// `[USER@]HOST[:PORT]`, as ssh takes it.
    pub destination: String,
    pub command: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEvent {
    /// Lines as they came, in order (a burst at once).
    Lines { key: ObjectKey, lines: Vec<String> },
    /// The command ended: cleanly, or with why (ssh's reason, or the command's).
    Ended {
        key: ObjectKey,
        error: Option<String>,
    },
}
