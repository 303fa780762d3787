//! The object lists: ServiceEntries, WorkloadEntries, WorkloadGroups, DestinationRules, Sidecars.

use super::table::{self, TableSpec};
use crate::config::theme::Theme;
use crate::model::health::{self, Health};
use crate::model::object::{Kind, Object};
use crate::present::cells::{cells_with, header, optional_columns};
use crate::state::{RowId, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect, kind: Kind) {
    let Some(list) = state.list() else { return };
    if list.rows.is_empty() {
        let msg = if list.total == 0 {
            format!(
                " no {}{} ",
                kind.plural(),
                state
                    .ui
                    .namespace
                    .as_ref()
                    .map(|n| format!(" in namespace {n}"))
                    .unwrap_or_default()
            )
        } else {
            format!(
                " no {kind} matches the filter {:?} (esc clears it) ",
                list.filter
            )
        };
        frame.render_widget(
            Paragraph::new(Line::styled(msg, theme.style("muted"))),
            area,
        );
        return;
    }
    let height = area.height.saturating_sub(2) as usize;
    let (start, end) = table::window(list.selected, list.rows.len(), height);
    let mut rows = Vec::with_capacity(end - start);
    let mut marked = Vec::with_capacity(end - start);
    for row in &list.rows[start..end] {
        let RowId::Object(key) = row else { continue };
        let Some(entry) = state.registry.store.get(key) else {
            continue;
        };
        let pending = state.edits.pending.iter().any(|e| &e.object() == key);
        let style = match &entry.object {
            _ if pending => Some("pending"),
            Object::WorkloadEntry(we) if health::of_workload_entry(we) == Health::Unhealthy => {
                Some("health.unhealthy")
            }
            _ => None,
        };
        rows.push((
            cells_with(
                &state.registry.store,
                &entry.object,
                state.registry.derived.counts(key),
            )
            .into_iter()
            .map(Line::from)
            .collect(),
            style,
        ));
        marked.push(list.marked.contains(row));
    }
    let mut hdr = header(kind);
    if state.several_clusters() {
        hdr.push(crate::present::cells::CLUSTER_COLUMN.to_string());
    }
    if let Some(h) = hdr.get_mut(list.sort_column) {
        h.push(if list.sort_reverse { '↑' } else { '↓' });
    }
    table::render(
        frame,
        area,
        theme,
        TableSpec {
            header: hdr,
            rows,
            selected: Some(list.selected - start),
            marked,
            key_column: 1,
            optional: optional_columns(kind),
        },
    );
}
