//! Help, generated from the action list and the keymap in force.

use crate::action::Action;
use crate::config::theme::Theme;
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub const COMMANDS: [(&str, &str); 9] = [
    (
        ":se :we :wg :dr :sidecar",
        "go to a resource list (kubectl names work too)",
    ),
    (":problems", "lint findings"),
    (":ep", "endpoints of the selected ServiceEntry"),
    (
        ":ns NAME",
        "only namespace NAME (:ns all for every namespace)",
    ),
    (
        ":ctx NAME",
        "on a cluster: switch kubeconfig context without a restart",
    ),
    (
        ":view [NS] [REGION/ZONE]",
        "see endpoints, shares and drift as a proxy in NS (which ServiceEntry it gets) at that locality; :view - resets",
    ),
    (":q", "quit"),
    ("/text", "filter: text (smart case); //regex; /~fuzzy"),
    (
        "edit form",
        "tab switches field · enter checks, then enter applies · esc leaves",
    ),
];

pub fn render(state: &State, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    let popup = Rect::new(
        area.x + 1,
        area.y + 1,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, popup);
    let mut lines = vec![Line::styled("Keys", theme.style("header"))];
    for a in Action::ALL {
        let keys = state.keymap.keys_for(a).join(", ");
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{:<14}",
                    if keys.is_empty() {
                        "(unbound)".into()
                    } else {
                        keys
                    }
                ),
                theme.style("key"),
            ),
            Span::raw(format!("{:<18}", a.name())),
            Span::styled(a.description(), theme.style("muted")),
        ]));
    }
    lines.push(Line::styled("Commands", theme.style("header")));
    for (c, d) in COMMANDS {
        lines.push(Line::from(vec![
            Span::styled(format!("{c:<26}"), theme.style("key")),
            Span::styled(d, theme.style("muted")),
        ]));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border"))
        .title(Span::styled(" help — esc closes ", theme.style("title")));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
}
