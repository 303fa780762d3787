//! The endpoints of one service: the derived table with share bars.

use super::table::{self, TableSpec, share_bar};
use crate::config::theme::Theme;
use crate::model::endpoint::EndpointSource;
use crate::state::{RowId, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let (Some(list), Some(d)) = (state.list(), state.endpoints.as_ref()) else {
        frame.render_widget(
            Paragraph::new(" this ServiceEntry is gone (deleted or renamed) — esc goes back "),
            area,
        );
        return;
    };
    let [info, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let dr = d
        .destination_rule
        .as_ref()
        .map_or("no DestinationRule".to_string(), |k| {
            format!("DR {}/{}", k.namespace, k.name)
        });
    let view = state.viewpoint.locality.as_ref().map_or(
        "no viewpoint (:view REGION/ZONE to see locality LB)".into(),
        |l| format!("seen from {l}"),
    );
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!(" {} ", d.hosts.join(",")), theme.style("header")),
            Span::styled(format!("│ {dr} │ {view}"), theme.style("muted")),
        ])),
        info,
    );
    let height = body.height.saturating_sub(2) as usize;
    let (start, end) = table::window(list.selected, list.rows.len(), height);
    let bar = if body.width < 100 { 5 } else { 10 };
    // Observed traffic (the demo's load), from the proxies in the viewpoint locality.
    let view_loc = state.viewpoint.locality.as_ref().map(|l| l.to_string());
    let rates = state.traffic.as_ref().map(|t| t.rates(view_loc.as_deref()));
    let mut rows = Vec::new();
    let mut marked = Vec::new();
    for row in &list.rows[start..end] {
        let RowId::Endpoint(p, e) = row else { continue };
        let Some(port) = d.ports.get(*p) else {
            continue;
        };
        let Some(ep) = port.endpoints.get(*e) else {
            continue;
        };
        let source = match &ep.source {
            EndpointSource::WorkloadEntry { name, .. } => format!("we/{name}"),
            EndpointSource::Pod { name, .. } => format!("pod/{name}"),
            EndpointSource::ServiceEntry { index, .. } => format!("inline[{index}]"),
        };
        let weight = match ep.declared_weight {
            Some(w) if w == ep.weight => w.to_string(),
            Some(w) => format!("{w}→{}", ep.weight),
            None => format!("-→{}", ep.weight),
        };
        let style = (!ep.health.is_healthy()).then_some("health.unhealthy");
        let observed = rates.as_ref().map(|r| {
            let total: f64 = port
                .endpoints
                .iter()
                .filter_map(|e| r.get(&e.address))
                .sum();
            let mine = r.get(&ep.address).copied().unwrap_or(0.0);
            let pct = if total > 0.0 {
                mine / total * 100.0
            } else {
                0.0
            };
            Line::from(format!("{mine:>5.1}/s {pct:>3.0}%"))
        });
        rows.push((
            vec![
                Line::from(format!("{}/{}", port.port_number, port.port_name)),
                Line::from(source),
                Line::from(format!("{}:{}", ep.address, ep.port)),
                Line::from(weight),
                Line::from(ep.locality.to_string()),
                Line::from(ep.priority.map_or("-".into(), |p| p.to_string())),
                Line::from(ep.health.label()),
                Line::from(vec![
                    Span::styled(share_bar(ep.share, bar), theme.style("share.bar")),
                    Span::raw(format!(" {:>5.1}%", ep.share * 100.0)),
                ]),
            ]
            .into_iter()
            .chain(observed)
            .collect(),
            style,
        ));
        marked.push(list.marked.contains(row));
    }
    let mut header = [
        "PORT", "SOURCE", "ADDRESS", "WEIGHT", "LOCALITY", "PRI", "HEALTH", "SHARE",
    ]
    .map(String::from)
    .to_vec();
    if rates.is_some() {
        header.push("OBSERVED".into());
    }
    table::render(
        frame,
        body,
        theme,
        TableSpec {
            header,
            rows,
            selected: Some(list.selected.saturating_sub(start)),
            marked,
            key_column: 1,
            optional: vec![5, 0, 4],
        },
    );
}
