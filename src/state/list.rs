//! Screens and the rows each list shows (filtered and sorted in `update`, never in a view).

use crate::model::object::{Kind, ObjectKey};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Screen {
    List(Kind),
    Endpoints(ObjectKey),
    Problems,
    Yaml(ObjectKey),
    /// Every proxy: sync status from the control plane, and what its admin API answers.
    Proxies,
    /// Per cluster: rates, errors, latency, connections and ejections over time.
    Charts,
    /// A WorkloadEntry's sidecar log, read over ssh.
    Logs(ObjectKey),
    /// What changed, newest first: everything (None), or one service's or entry's.
    Timeline(Option<ObjectKey>),
    /// A service as it was just before a change of its timeline, beside now.
    AsOf(ObjectKey, std::time::SystemTime),
}

impl Screen {
    pub fn title(&self) -> String {
        match self {
            Screen::List(k) => k.plural().to_string(),
            Screen::Endpoints(k) => format!("Endpoints of {}/{}", k.namespace, k.name),
            Screen::Problems => "Problems".into(),
            Screen::Proxies => "Proxies".into(),
            Screen::Charts => "Charts".into(),
            Screen::Yaml(k) => format!("YAML {} {}/{}", k.kind, k.namespace, k.name),
            Screen::Logs(k) => format!("Log of {}/{}", k.namespace, k.name),
            Screen::Timeline(None) => "Timeline".into(),
            Screen::Timeline(Some(k)) => format!("Timeline of {}/{}", k.namespace, k.name),
            Screen::AsOf(k, at) => {
                let at = humantime::format_rfc3339_seconds(*at).to_string();
                format!(
                    "{}/{} just before {} UTC, beside now",
                    k.namespace,
                    k.name,
                    at.trim_end_matches('Z').replace('T', " ")
                )
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RowId {
    Object(ObjectKey),
    Finding(usize),
    /// (port index, endpoint index) into the derived endpoints.
    Endpoint(usize, usize),
    /// A line of a YAML view.
    Line(usize),
    /// A proxy by its short name.
    Proxy(String),
    /// An Envoy cluster by name (`outbound|PORT||HOST`).
    Cluster(String),
    /// A change by its place in the timeline.
    Change(usize),
}

#[derive(Debug, Clone, Default)]
pub struct ListView {
    pub rows: Vec<RowId>,
    pub selected: usize,
    pub filter: String,
    pub sort_column: usize,
    pub sort_reverse: bool,
    pub marked: BTreeSet<RowId>,
    /// Total before filtering, for "12/340" in the title.
    pub total: usize,
    /// Indices into the kind's search index of the rows shown, for narrowing.
    pub matched: Vec<u32>,
    /// Filter, store generation and namespace the rows were computed for.
    pub filtered_at: Option<(String, u64, Option<String>)>,
}

impl ListView {
    pub fn selected_row(&self) -> Option<&RowId> {
        self.rows.get(self.selected)
    }

    pub fn clamp(&mut self) {
        if self.selected >= self.rows.len() {
            self.selected = self.rows.len().saturating_sub(1);
        }
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.rows.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
    }
}
