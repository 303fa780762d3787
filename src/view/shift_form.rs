//! `:shift`'s form: a field per setting, then the weights every step gives (or why the
//! fields give none), then the keys.

use crate::config::theme::Theme;
use crate::state::State;
use crate::state::edits::SHIFT_FIELDS;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub fn render(state: &State, theme: &Theme, frame: &mut Frame) {
    let Some(f) = state.edits.shift_form.as_ref() else {
        return;
    };
    let area = frame.area();
    let w = area.width.saturating_sub(4).min(100);
    let below: Vec<Line> = match &f.preview {
        Ok(lines) => lines
            .iter()
            .map(|l| Line::styled(l.clone(), theme.style("default")))
            .chain(
                f.warnings
                    .iter()
                    .map(|w| Line::styled(format!("⚠ {w}"), theme.style("severity.warning"))),
            )
            .collect(),
        Err(why) => vec![Line::styled(why.clone(), theme.style("input.error"))],
    };
    let inner_w = w.saturating_sub(2).max(1) as usize;
    let rows: usize = below
        .iter()
        .map(|l| l.width().div_ceil(inner_w).max(1))
        .sum();
    let fields = SHIFT_FIELDS.len() as u16;
    let h = (fields + 1 + rows as u16 + 1 + 2).min(area.height.saturating_sub(2).max(3));
    let popup = Rect::new(area.x + (area.width - w) / 2, area.y + 1, w, h);
    frame.render_widget(Clear, popup);
    let title = match state.screen() {
        crate::state::Screen::Endpoints(se) => format!(" shift {se} "),
        _ => " shift ".into(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border"))
        .title(Span::styled(title, theme.style("title")));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [inputs, _, preview, footer] = Layout::vertical([
        Constraint::Length(fields),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let lines = Layout::vertical(vec![Constraint::Length(1); SHIFT_FIELDS.len()]).split(inputs);
    for (i, label) in SHIFT_FIELDS.iter().enumerate() {
        super::edit_form::field(frame, theme, lines[i], label, &f.inputs[i], f.focus == i);
    }
    frame.render_widget(Paragraph::new(below).wrap(Wrap { trim: false }), preview);
    let foot = if f.preview.is_ok() {
        "tab next field · enter start the shift · esc cancel (nothing is written)"
    } else {
        "tab next field · esc cancel (nothing is written)"
    };
    frame.render_widget(
        Paragraph::new(Line::styled(foot, theme.style("muted"))),
        footer,
    );
}
