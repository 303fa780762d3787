//! One object as YAML, with where it came from.

use super::table;
use crate::config::theme::Theme;
use crate::model::object::ObjectKey;
use crate::present::cells::yaml_of;
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect, key: &ObjectKey) {
    let Some(entry) = state.registry.store.get(key) else {
        frame.render_widget(
            Paragraph::new(" this object is gone (deleted or renamed) — esc goes back "),
            area,
        );
        return;
    };
    let origin = entry
        .origin
        .as_ref()
        .map_or("from the API server".to_string(), |o| {
            format!("{}:{}", o.path.display(), o.line)
        });
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.style("border"))
        .title(Span::styled(format!(" {origin} "), theme.style("muted")));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text = yaml_of(&entry.object);
    let lines: Vec<&str> = text.lines().collect();
    let selected = state.list().map_or(0, |l| l.selected);
    let (start, end) = table::window(selected, lines.len(), inner.height as usize);
    let shown: Vec<Line> = lines[start..end]
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let n = Span::styled(format!("{:>4} ", start + i + 1), theme.style("muted"));
            let body = if start + i == selected {
                Span::styled(l.to_string(), theme.style("row.selected"))
            } else {
                Span::raw(l.to_string())
            };
            Line::from(vec![n, body])
        })
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
}
