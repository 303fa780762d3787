//! The log pane: a bounded buffer of one sidecar's log lines, followed or paused.

use crate::model::object::ObjectKey;
use std::collections::VecDeque;

/// Lines kept; older ones are dropped (and counted) however long the log is followed.
pub const KEEP: usize = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub struct LogPane {
    pub key: ObjectKey,
    pub destination: String,
    pub lines: VecDeque<String>,
    /// Lines dropped off the front: row `Line(i)` is line `i - dropped` of the buffer.
    pub dropped: usize,
    /// New lines move the view to the bottom; paused, they only wait in the buffer.
    pub follow: bool,
    /// Lines that arrived while paused.
    pub unseen: usize,
    /// The reader stopped: `Some(None)` cleanly, `Some(Some(why))` otherwise.
    pub ended: Option<Option<String>>,
}

impl LogPane {
    pub fn new(key: ObjectKey, destination: String) -> LogPane {
        LogPane {
            key,
            destination,
            lines: VecDeque::new(),
            dropped: 0,
            follow: true,
            unseen: 0,
            ended: None,
        }
    }

    pub fn push(&mut self, lines: Vec<String>) {
        if !self.follow {
            self.unseen += lines.len();
        }
        self.lines.extend(lines);
        while self.lines.len() > KEEP {
            self.lines.pop_front();
            self.dropped += 1;
        }
    }

    /// The line with absolute number `n` (as rows name it), if still kept.
    pub fn line(&self, n: usize) -> Option<&str> {
        n.checked_sub(self.dropped)
            .and_then(|i| self.lines.get(i))
            .map(String::as_str)
    }

    /// Absolute numbers of every kept line.
    pub fn numbers(&self) -> std::ops::Range<usize> {
        self.dropped..self.dropped + self.lines.len()
    }
}

/// How a log line reads: an error or a warning stands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Plain,
}

/// Istio's and Envoy's log levels (`\terror\t`, `[error]`, `level=error`, `critical`).
pub fn severity(line: &str) -> Severity {
    let has = |words: &[&str]| {
        words.iter().any(|w| {
            line.contains(&format!("\t{w}\t"))
                || line.contains(&format!("[{w}]"))
                || line.contains(&format!("level={w}"))
                || line.contains(&format!(" {w} "))
        })
    };
    if has(&["error", "critical", "fatal", "ERROR"]) {
        Severity::Error
    } else if has(&["warn", "warning", "WARN"]) {
        Severity::Warning
    } else {
        Severity::Plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::object::Kind;

    #[test]
    fn the_buffer_stays_bounded_and_rows_keep_their_numbers() {
        let mut p = LogPane::new(ObjectKey::new(Kind::WorkloadEntry, "a", "b"), "h".into());
        p.push((0..KEEP + 5).map(|i| i.to_string()).collect());
        assert_eq!((p.lines.len(), p.dropped), (KEEP, 5));
        assert_eq!(p.line(4), None);
        assert_eq!(p.line(5), Some("5"));
        assert_eq!(p.numbers().end, KEEP + 5);
        p.follow = false;
        p.push(vec!["x".into(), "y".into()]);
        assert_eq!(p.unseen, 2);
    }

    #[test]
    fn envoy_and_istio_levels_are_recognised() {
        assert_eq!(
            severity("2026-12-02T10:00:00Z\terror\tads\tpush failed"),
            Severity::Error
        );
        assert_eq!(
            severity("[2026-12-02 10:00:00.1][12][warning][config] x"),
            Severity::Warning
        );
        assert_eq!(
            severity("[2026-12-02 10:00:00.1][12][info][main] ok"),
            Severity::Plain
        );
        assert_eq!(severity("the errors handler started"), Severity::Plain);
    }
}
