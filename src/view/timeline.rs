//! What changed, newest first, and the selected change in full: both values (or that the old
//! one was never seen), who, when, and how the console knows.

use super::table::{self, TableSpec};
use crate::config::theme::Theme;
use crate::model::timeline::{Change, ChangeKind, Origin, Seen};
use crate::present::changes::{self, HEADER};
use crate::state::{RowId, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

fn style_of(c: &Change) -> Option<&'static str> {
    let failing = matches!(&c.new, Seen::Value(v)
        if v == "False" || v.starts_with("NACK") || v.starts_with("lost") || v.starts_with("refused")
            || v.contains("failed_"));
    match c.kind {
        _ if failing || c.field.starts_with("NACK") => Some("severity.error"),
        ChangeKind::Health | ChangeKind::Connection => Some("severity.warning"),
        ChangeKind::Edit => Some("key"),
        _ => None,
    }
}

/// Where the list's knowledge comes from, for an empty screen and the line under the table.
fn provenance(state: &State) -> String {
    let since = state.timeline.since.as_secs() / 60;
    if let Some(r) = &state.timeline.replay {
        format!(
            "a recording ({}): what had happened by the moment shown; [ ] step through it, :at jumps",
            r.source
        )
    } else if state.on_cluster() {
        let told = format!("before the start: managedFields and Events of the last {since} min");
        match &state.timeline.history_note {
            Some(note) => format!("{told}; {note}"),
            None => told,
        }
    } else {
        "manifest files keep no history: changes seen since the console started".into()
    }
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(list) = state.list() else { return };
    if list.rows.is_empty() {
        let msg = if state.timeline.changes.is_empty() {
            " no change yet "
        } else {
            " no change matches the filter "
        };
        let lines = vec![
            Line::styled(msg, theme.style("health.healthy")),
            Line::styled(format!(" {}", provenance(state)), theme.style("muted")),
        ];
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }
    let [table_area, detail] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(area);
    let with_date = area.width >= 120;
    let height = table_area.height.saturating_sub(2) as usize;
    let (start, end) = table::window(list.selected, list.rows.len(), height);
    let mut rows = Vec::new();
    for row in &list.rows[start..end] {
        let RowId::Change(i) = row else { continue };
        let Some(c) = state.timeline.changes.get(*i) else {
            continue;
        };
        let cells = changes::cells(c, with_date);
        let style = style_of(c);
        let lines = cells
            .into_iter()
            .enumerate()
            .map(|(col, text)| match (col, style) {
                (1 | 4, Some(s)) => Line::styled(text, theme.style(s)),
                (0, _) if c.origin == Origin::ManagedFields => {
                    Line::styled(text, theme.style("muted"))
                }
                _ => Line::from(text),
            })
            .collect();
        rows.push((lines, None));
    }
    // A narrow screen gives up WHO (the line below says it), then shares the width out
    // between the object and what changed.
    let spec = TableSpec::unmarked(&HEADER, rows, list.selected - start, 1, &[5]);
    table::render(frame, table_area, theme, spec);
    let text = match list.selected_row() {
        Some(RowId::Change(i)) => match state.timeline.changes.get(*i) {
            Some(c) => detail_lines(c, theme),
            None => Vec::new(),
        },
        _ => Vec::new(),
    };
    let mut text = text;
    let dropped = state.timeline.changes.dropped();
    let tail = if dropped > 0 {
        format!("{}; {dropped} older changes dropped", provenance(state))
    } else {
        provenance(state)
    };
    text.push(Line::styled(tail, theme.style("muted")));
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), detail);
}

fn detail_lines<'a>(c: &Change, theme: &Theme) -> Vec<Line<'a>> {
    let when = changes::time(c, true);
    let how = match c.origin {
        Origin::Watched => "seen by the watch".to_string(),
        Origin::ManagedFields => {
            "read from managedFields: its manager's latest write, the value before was never seen"
                .to_string()
        }
        Origin::Event => "a Kubernetes Event".to_string(),
        Origin::Console => "this console's edit".to_string(),
        Origin::Planes => "seen on the planes".to_string(),
    };
    vec![Line::from(vec![
        Span::styled(format!("{} {} ", c.subject(), c.field), theme.style("key")),
        Span::raw(format!(
            "{}, by {} at {when} UTC ({how})",
            changes::values(c),
            c.who_text()
        )),
    ])]
}
