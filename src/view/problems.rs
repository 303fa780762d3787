//! Lint findings; enter jumps to the object.

use super::table::{self, TableSpec};
use crate::config::theme::Theme;
use crate::model::lint::Severity;
use crate::state::{RowId, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(list) = state.list() else { return };
    if list.rows.is_empty() {
        let msg = if state.registry.findings.is_empty() {
            " no problems found "
        } else {
            " no problem matches the filter "
        };
        frame.render_widget(
            Paragraph::new(Line::styled(msg, theme.style("health.healthy"))),
            area,
        );
        return;
    }
    let [table_area, detail] = ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Min(3),
        ratatui::layout::Constraint::Length(3),
    ])
    .areas(area);
    let height = table_area.height.saturating_sub(2) as usize;
    let (start, end) = table::window(list.selected, list.rows.len(), height);
    let mut rows = Vec::new();
    for row in &list.rows[start..end] {
        let RowId::Finding(i) = row else { continue };
        let Some(f) = state.registry.findings.get(*i) else {
            continue;
        };
        let sev = match f.severity {
            Severity::Error => "severity.error",
            Severity::Warning => "severity.warning",
        };
        let object = f.kind.map_or(String::new(), |k| {
            format!("{} {}/{}", k.short(), f.namespace, f.name)
        });
        rows.push((
            vec![
                Line::styled(f.severity.as_str(), theme.style(sev)),
                Line::from(f.code.as_str()),
                Line::from(object),
                Line::from(f.message.clone()),
                Line::from(f.location()),
            ],
            None,
        ));
    }
    let header = ["SEVERITY", "CODE", "OBJECT", "MESSAGE", "FILE:LINE"];
    let spec = TableSpec::unmarked(&header, rows, list.selected - start, 2, &[4]);
    table::render(frame, table_area, theme, spec);
    // The whole message of the selected finding, wrapped, with where to fix it.
    if let Some(RowId::Finding(i)) = list.selected_row()
        && let Some(f) = state.registry.findings.get(*i)
    {
        let text = vec![
            Line::from(vec![
                ratatui::text::Span::styled(
                    format!("{} {} ", f.code.as_str(), f.field),
                    theme.style("key"),
                ),
                ratatui::text::Span::styled(f.location(), theme.style("muted")),
            ]),
            Line::from(f.message.clone()),
        ];
        frame.render_widget(
            Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }),
            detail,
        );
    }
}
