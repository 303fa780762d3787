//! Help, generated from the keymap in force (layer by layer), the action list and the command
//! table.

use crate::action::{Action, Layer};
use crate::command::Command;
use crate::config::theme::Theme;
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// What the filter line understands (not a command, so not in the table).
const FILTER: (&str, &str) = (
    "/text",
    "filter: the text anywhere, smart case (a capital makes it exact); //regex; /~fuzzy",
);

pub fn lines<'a>(state: &State, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    for layer in Layer::ALL {
        lines.push(Line::styled(layer.title(), theme.style("header")));
        for a in Action::ALL.into_iter().filter(|a| a.layer() == layer) {
            let keys = state.setup.keymap.keys_for(a).join(", ");
            lines.push(Line::from(vec![
                Span::styled(
                    format!(
                        "{:<14} ",
                        if keys.is_empty() {
                            "(unbound)".into()
                        } else {
                            keys
                        }
                    ),
                    theme.style("key"),
                ),
                Span::raw(format!("{:<18} ", a.key_name())),
                Span::styled(a.description(), theme.style("muted")),
            ]));
        }
    }
    lines.push(Line::styled("Commands", theme.style("header")));
    for c in Command::all() {
        let usage = format!(":{} {}", c.name(), c.usage());
        let aliases = c.aliases();
        let also = if aliases.is_empty() {
            String::new()
        } else {
            format!(" (also :{})", aliases.join(" :"))
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<26} ", usage.trim_end()), theme.style("key")),
            Span::styled(format!("{}{also}", c.description()), theme.style("muted")),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled(format!("{:<26} ", FILTER.0), theme.style("key")),
        Span::styled(FILTER.1, theme.style("muted")),
    ]));
    lines
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    let popup = Rect::new(
        area.x + 1,
        area.y + 1,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, popup);
    let scroll = |a: Action| {
        state
            .setup
            .keymap
            .keys_for(a)
            .first()
            .cloned()
            .unwrap_or_default()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border"))
        .title(Span::styled(
            format!(
                " help — {}/{} scroll, {} closes ",
                scroll(Action::HelpDown),
                scroll(Action::HelpUp),
                scroll(Action::HelpClose)
            ),
            theme.style("title"),
        ));
    frame.render_widget(
        Paragraph::new(lines(state, theme))
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((state.ui.help_scroll, 0)),
        popup,
    );
}
