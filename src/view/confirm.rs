//! A confirmation (drain, restore, shift): what will happen, then what to worry about.

use crate::config::theme::Theme;
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub fn render(state: &State, theme: &Theme, frame: &mut Frame) {
    let Some(c) = state.edits.confirm.as_ref() else {
        return;
    };
    let area = frame.area();
    let w = area.width.saturating_sub(4).min(100);
    let mut lines: Vec<Line> = c
        .lines
        .iter()
        .map(|l| Line::styled(l.clone(), theme.style("default")))
        .collect();
    if !c.warnings.is_empty() {
        lines.push(Line::raw(""));
        lines.extend(
            c.warnings
                .iter()
                .map(|w| Line::styled(format!("⚠ {w}"), theme.style("severity.warning"))),
        );
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("enter/y", theme.style("key")),
        Span::styled(format!(" {} · ", c.verb), theme.style("muted")),
        Span::styled("esc/n", theme.style("key")),
        Span::styled(" cancel, nothing is written", theme.style("muted")),
    ]));
    // Wrapped lines take more rows than there are lines: count them at the popup's width.
    let inner_w = w.saturating_sub(2).max(1) as usize;
    let rows: usize = lines
        .iter()
        .map(|l| l.width().div_ceil(inner_w).max(1))
        .sum();
    let h = (rows as u16 + 2).min(area.height.saturating_sub(2).max(3));
    let popup = Rect::new(area.x + (area.width - w) / 2, area.y + 2, w, h);
    frame.render_widget(Clear, popup);
    let title = format!(" {} ", c.title);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border"))
        .title(Span::styled(title, theme.style("title")));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        popup,
    );
}
