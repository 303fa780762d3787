//! A sidecar's log: where it is read from, whether it is followed, and the lines, errors and
//! warnings standing out.

use super::table;
use crate::config::theme::Theme;
use crate::state::logs::{Severity, severity};
use crate::state::{RowId, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(pane) = &state.logs else {
        frame.render_widget(
            Paragraph::new(" no log is being read — esc goes back "),
            area,
        );
        return;
    };
    let list = state.list();
    let rows = list.map_or(&[][..], |l| l.rows.as_slice());
    let mode = match (&pane.ended, pane.follow) {
        (Some(Some(why)), _) => format!("stopped: {why}"),
        (Some(None), _) => "ended".to_string(),
        (None, true) => "following (f pauses)".to_string(),
        (None, false) if pane.unseen > 0 => format!("paused, {} new (f follows)", pane.unseen),
        (None, false) => "paused (f follows)".to_string(),
    };
    let kept = if pane.dropped > 0 {
        format!(
            "last {} lines ({} older dropped)",
            pane.lines.len(),
            pane.dropped
        )
    } else {
        format!("{} lines", pane.lines.len())
    };
    let style = if matches!(pane.ended, Some(Some(_))) {
        theme.style("severity.error")
    } else {
        theme.style("muted")
    };
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.style("border"))
        .title(Span::styled(
            format!(" ssh {} · {kept} · {mode} ", pane.destination),
            style,
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        let what = if pane.lines.is_empty() && pane.ended.is_none() {
            " waiting for the first line…"
        } else {
            " no line matches the filter"
        };
        frame.render_widget(
            Paragraph::new(Span::styled(what, theme.style("muted"))),
            inner,
        );
        return;
    }
    let selected = list.map_or(0, |l| l.selected);
    let (start, end) = table::window(selected, rows.len(), inner.height as usize);
    let shown: Vec<Line> = rows[start..end]
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let RowId::Line(n) = r else { return None };
            let text = pane.line(*n)?;
            let style = if start + i == selected {
                theme.style("row.selected")
            } else {
                match severity(text) {
                    Severity::Error => theme.style("severity.error"),
                    Severity::Warning => theme.style("severity.warning"),
                    Severity::Plain => theme.style("text"),
                }
            };
            Some(Line::from(Span::styled(expand_tabs(text), style)))
        })
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

/// Tabs to the next multiple of 8 columns: Istio's log separates its fields with tabs, which
/// a terminal cell cannot hold.
fn expand_tabs(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut col = 0;
    for c in text.chars() {
        if c == '\t' {
            let n = 8 - col % 8;
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
        } else {
            out.push(c);
            col += 1;
        }
    }
    out
}
