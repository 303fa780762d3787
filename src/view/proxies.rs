//! Every proxy: what the control plane says of its sync (syncz, like `istioctl proxy-status`,
//! per control-plane replica) beside what its Envoy admin API answers.

use super::table::{self, TableSpec};
use crate::config::theme::Theme;
use crate::state::{RowId, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use std::time::SystemTime;

const TYPES: [&str; 4] = ["CDS", "LDS", "EDS", "RDS"];

fn status_style(s: &str) -> Option<&'static str> {
    match s {
        "SYNCED" => Some("health.healthy"),
        "STALE" | "NOT_SENT" => Some("severity.warning"),
        "ERROR" => Some("severity.error"),
        _ => None,
    }
}

fn age(t: SystemTime) -> String {
    let secs = SystemTime::now()
        .duration_since(t)
        .unwrap_or_default()
        .as_secs();
    if secs < 60 {
        format!("{secs}s ago")
    } else {
        format!("{}m ago", secs / 60)
    }
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(list) = state.list() else { return };
    let planes = &state.planes;
    if list.rows.is_empty() {
        let msg = if planes.control.is_empty() && planes.proxies.is_empty() {
            " no xDS server or Envoy configured: start with --xds HOST:PORT and/or --envoy-admin NAME=HOST:PORT (meshdeck demo has both) "
        } else if planes.syncz_unavailable.is_empty() {
            " no proxy connected yet "
        } else {
            " no proxies: the xDS server does not answer syncz (see the line below) "
        };
        let mut lines = vec![Line::from(msg)];
        for (server, why) in &planes.syncz_unavailable {
            lines.push(Line::styled(
                format!(" {server}: {why}"),
                theme.style("muted"),
            ));
        }
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }
    let [table_area, detail] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(area);
    let syncs = &planes.syncs;
    let height = table_area.height.saturating_sub(2) as usize;
    let (start, end) = table::window(list.selected, list.rows.len(), height);
    let mut rows = Vec::new();
    for row in &list.rows[start..end] {
        let RowId::Proxy(name) = row else { continue };
        let sync = syncs.iter().find(|s| s.short_id() == name);
        let data = planes.proxies.get(name);
        let mut cells = vec![Line::from(name.clone())];
        for t in TYPES {
            let s = sync.map_or("-", |s| s.status_of(t));
            cells.push(match status_style(s) {
                Some(style) => Line::styled(s.to_string(), theme.style(style)),
                None => Line::from(s.to_string()),
            });
        }
        cells.push(Line::from(
            sync.map_or("-".to_string(), |s| s.control_plane.clone()),
        ));
        cells.push(Line::from(
            sync.map_or(String::new(), |s| s.locality.clone()),
        ));
        let (admin, polled, hosts) = match data {
            None => ("-".to_string(), "-".to_string(), String::new()),
            Some(d) => {
                let polled = match (&d.error, d.fetched_at) {
                    (Some(_), Some(t)) => format!("STALE since {}", age(t)),
                    (Some(_), None) => "unreachable".into(),
                    (None, Some(t)) => age(t),
                    (None, None) => "not polled".into(),
                };
                let n: usize = d.clusters.values().map(|h| h.len()).sum();
                (
                    d.admin.trim_start_matches("http://").to_string(),
                    polled,
                    format!("{} cluster(s), {n} host(s)", d.clusters.len()),
                )
            }
        };
        let stale = data.is_some_and(|d| d.is_stale());
        cells.push(Line::from(admin));
        cells.push(if stale {
            Line::styled(polled, theme.style("severity.error"))
        } else {
            Line::from(polled)
        });
        cells.push(Line::from(hosts));
        let worst = sync.and_then(|s| TYPES.iter().find(|t| s.status_of(t) == "ERROR"));
        rows.push((
            cells,
            worst
                .map(|_| "health.unhealthy")
                .or(stale.then_some("health.unhealthy")),
        ));
    }
    let header = crate::present::cells::PROXY_COLUMNS;
    let selected_row = list.selected.saturating_sub(start);
    let spec = TableSpec::unmarked(&header, rows, selected_row, 0, &[9, 6, 7, 5]);
    table::render(frame, table_area, theme, spec);
    // Why the selected proxy is not in sync, or why its Envoy cannot be read.
    if let Some(RowId::Proxy(name)) = list.selected_row() {
        let mut why: Vec<String> = Vec::new();
        if let Some(s) = syncs.iter().find(|s| s.short_id() == name) {
            for (t, ts) in &s.types {
                if let Some(e) = &ts.error {
                    why.push(format!("{t} rejected: {e}"));
                } else if ts.status == "STALE" {
                    why.push(format!("{t} version {} sent, not ACKed yet", ts.version));
                }
            }
        }
        if let Some(e) = planes.proxies.get(name).and_then(|d| d.error.as_ref()) {
            why.push(e.clone());
        }
        if !why.is_empty() {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    format!(" {}", why.join("; ")),
                    theme.style("severity.warning"),
                ))
                .wrap(ratatui::widgets::Wrap { trim: true }),
                detail,
            );
        }
    }
}
