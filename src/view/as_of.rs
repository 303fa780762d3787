//! A service as the console knew it at a moment of its timeline, beside now: each endpoint's
//! weight, health and share then and now, the ones that moved marked.

use super::table::{self, TableSpec};
use crate::config::theme::Theme;
use crate::model::endpoint::{Endpoint, ServiceEndpoints};
use crate::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

fn at(side: &Option<ServiceEndpoints>, place: Option<(usize, usize)>) -> Option<&Endpoint> {
    let (p, e) = place?;
    side.as_ref()?.ports.get(p)?.endpoints.get(e)
}

/// `70 → 50`, or one value when it did not move; `—` where the endpoint was not.
fn pair(then: Option<String>, now: Option<String>) -> (String, bool) {
    match (then, now) {
        (Some(a), Some(b)) if a == b => (a, false),
        (a, b) => (
            format!(
                "{} → {}",
                a.as_deref().unwrap_or("—"),
                b.as_deref().unwrap_or("—")
            ),
            true,
        ),
    }
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let (Some(list), Some(a)) = (state.list(), state.timeline.as_of.as_ref()) else {
        return;
    };
    let [table_area, detail] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(area);
    if list.rows.is_empty() {
        let msg = " no endpoints then or now ";
        frame.render_widget(
            Paragraph::new(Line::styled(msg, theme.style("muted"))),
            table_area,
        );
    } else {
        let height = table_area.height.saturating_sub(2) as usize;
        let (start, end) = table::window(list.selected, list.rows.len(), height);
        let mut rows = Vec::new();
        for row in &a.rows[start..end.min(a.rows.len())] {
            let then = at(&a.then, row.then);
            let now = at(&a.now, row.now);
            let (weight, w_moved) = pair(
                then.map(|e| e.weight.to_string()),
                now.map(|e| e.weight.to_string()),
            );
            let (health, h_moved) = pair(
                then.map(|e| e.health.label().to_string()),
                now.map(|e| e.health.label().to_string()),
            );
            let (share, s_moved) = pair(
                then.map(|e| format!("{:.0}%", e.share * 100.0)),
                now.map(|e| format!("{:.0}%", e.share * 100.0)),
            );
            let locality = now
                .or(then)
                .map(|e| e.locality.to_string())
                .unwrap_or_default();
            let styled = |text: String, moved: bool| {
                if moved {
                    Line::styled(text, theme.style("pending"))
                } else {
                    Line::from(text)
                }
            };
            rows.push((
                vec![
                    Line::from(row.port.to_string()),
                    Line::from(row.address.clone()),
                    Line::from(locality),
                    styled(weight, w_moved),
                    styled(health, h_moved),
                    styled(share, s_moved),
                ],
                None,
            ));
        }
        let header = ["PORT", "ADDRESS", "LOCALITY", "WEIGHT", "HEALTH", "SHARE"];
        let spec = TableSpec::unmarked(&header, rows, list.selected - start, 1, &[2]);
        table::render(frame, table_area, theme, spec);
    }
    let mut note = String::from(
        "then → now; then is what the console knew: the registry now with every later change taken back",
    );
    if a.beyond_horizon {
        note.push_str(
            "; older changes than the kept ones cannot be taken back, so then may be newer",
        );
    }
    frame.render_widget(
        Paragraph::new(Line::styled(note, theme.style("muted"))).wrap(Wrap { trim: true }),
        detail,
    );
}
