//! Per cluster over time: requests, 2xx and 5xx per second, p50/p99 latency, active
//! connections and ejected hosts, summed over the Envoys that report them; below, the
//! selected cluster's charts across the width and its hosts from `/clusters`.

use super::sparkline::{current, number, spark};
use super::table::{self, TableSpec};
use crate::config::theme::Theme;
use crate::model::planes::HostKey;
use crate::model::planes::data::HostSeries;
use crate::model::planes::parse_cluster_name;
use crate::model::planes::series::Series;
use crate::model::planes::stats::Metric;
use crate::state::planes::PlanesView;
use crate::state::{RowId, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Seconds in the table's trend column.
const TREND: usize = 12;
/// Width of a detail line's label and value before its chart.
const LABEL: usize = 20;

/// `outbound|80||api.demo.svc` → `api.demo.svc:80`.
fn short(cluster: &str) -> String {
    parse_cluster_name(cluster).map_or(cluster.to_string(), |(port, host)| format!("{host}:{port}"))
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(list) = state.list() else { return };
    let planes = &state.planes;
    if list.rows.is_empty() {
        let msg = " no clusters: no ServiceEntry in scope, and no Envoy reported cluster stats ";
        frame.render_widget(Paragraph::new(msg), area);
        return;
    }
    let Some(clock) = planes.chart_clock() else {
        let lines = vec![
            Line::from(" no stats yet. Charts are fed by:"),
            Line::styled(
                "   --envoy-admin NAME=HOST:PORT        polled /stats (only the clusters shown)",
                theme.style("muted"),
            ),
            Line::styled(
                "   --envoy-prometheus NAME=HOST:PORT   Prometheus text instead (15090, 15020)",
                theme.style("muted"),
            ),
            Line::styled(
                "   --metrics-listen HOST:PORT          Envoys pushing to a metrics service sink",
                theme.style("muted"),
            ),
            Line::from(" meshdeck demo has its Envoys push."),
        ];
        frame.render_widget(Paragraph::new(lines), area);
        return;
    };
    let selected = match list.selected_row() {
        Some(RowId::Cluster(c)) => Some(c.as_str()),
        _ => None,
    };
    let hosts = selected
        .map(|c| planes.cluster_hosts(c))
        .unwrap_or_default();
    let failed = planes.stats.values().filter(|s| s.error.is_some()).count();
    let wanted =
        1 + failed + Metric::ALL.len() + if hosts.is_empty() { 0 } else { 1 + hosts.len() };
    let detail_h = (wanted as u16).min(area.height.saturating_sub(5));
    let [table_area, detail] =
        Layout::vertical([Constraint::Min(5), Constraint::Length(detail_h)]).areas(area);

    let height = table_area.height.saturating_sub(2) as usize;
    let (start, end) = table::window(list.selected, list.rows.len(), height);
    let mut rows = Vec::new();
    for row in &list.rows[start..end] {
        let RowId::Cluster(c) = row else { continue };
        let now = |m: Metric| current(&planes.cluster_window(c, m, clock, 5));
        let rq = planes.cluster_window(c, Metric::Rq, clock, TREND);
        let err = now(Metric::Err5xx);
        let ejected = now(Metric::Ejected);
        let cells = vec![
            Line::from(short(c)),
            Line::from(number(current(&rq))),
            Line::styled(spark(&rq), theme.style("share.bar")),
            Line::from(number(now(Metric::Ok2xx))),
            Line::from(number(err)),
            Line::from(number(now(Metric::P50))),
            Line::from(number(now(Metric::P99))),
            Line::from(number(now(Metric::Cx))),
            Line::from(number(ejected)),
        ];
        let bad = err.is_some_and(|e| e > 0.0) || ejected.is_some_and(|e| e > 0.0);
        rows.push((cells, bad.then_some("health.unhealthy")));
    }
    let header = [
        "CLUSTER", "RQ/S", "TREND", "2XX/S", "5XX/S", "P50ms", "P99ms", "CX", "EJ",
    ];
    let selected_row = list.selected.saturating_sub(start);
    let spec = TableSpec::unmarked(&header, rows, selected_row, 0, &[3, 5, 2]);
    table::render(frame, table_area, theme, spec);
    if let Some(c) = selected {
        render_detail(planes, theme, frame, detail, c, &hosts, clock);
    }
}

/// Where the cluster's numbers come from, per proxy, and which feeds stopped.
fn sources(planes: &PlanesView, cluster: &str, clock: u64) -> String {
    let mut out = Vec::new();
    for (proxy, s) in &planes.stats {
        if !s.clusters.contains_key(cluster) && s.error.is_none() {
            continue;
        }
        let state = match (&s.error, s.stopped_for(clock * 1000)) {
            (Some(_), _) => " failed (below)".to_string(),
            (None, Some(secs)) => format!(" stopped {secs}s ago"),
            _ => String::new(),
        };
        out.push(format!("{proxy}: {}{state}", s.source));
    }
    if out.is_empty() {
        "no proxy reports stats for it yet".into()
    } else {
        out.join(", ")
    }
}

fn render_detail(
    planes: &PlanesView,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
    cluster: &str,
    hosts: &[HostKey],
    clock: u64,
) {
    let width = (area.width as usize).saturating_sub(LABEL + 2).max(1);
    let mut lines = vec![Line::from(vec![
        Span::styled(format!(" {} ", short(cluster)), theme.style("header")),
        Span::styled(
            format!("│ last {width}s │ {}", sources(planes, cluster, clock)),
            theme.style("muted"),
        ),
    ])];
    // Why a polled proxy's numbers are missing, in its own words.
    for (proxy, s) in &planes.stats {
        if let Some(e) = &s.error {
            lines.push(Line::styled(
                format!(" {proxy} stats: {e}"),
                theme.style("severity.error"),
            ));
        }
    }
    for m in Metric::ALL {
        let w = planes.cluster_window(cluster, m, clock, width);
        lines.push(Line::from(vec![
            Span::raw(format!(" {:<13}{:>6} ", m.title(), number(current(&w)))),
            Span::styled(spark(&w), theme.style("share.bar")),
        ]));
    }
    if !hosts.is_empty() {
        let spark_w = width.saturating_sub(23).clamp(1, 60);
        lines.push(Line::styled(
            format!(
                " {:<21}{:>6} {:<spark_w$} {:>6} {:>4} {:>3}",
                "HOST (from /clusters)", "RQ/S", "", "ERR/S", "CX", "EJ"
            ),
            theme.style("header"),
        ));
        for key in hosts {
            let w = |pick: fn(&HostSeries) -> &Series, n| {
                planes.host_window(cluster, key, pick, clock, n)
            };
            let rq = w(|h| &h.rq.series, spark_w);
            let err = current(&w(|h| &h.errors.series, 5));
            let cx = current(&w(|h| &h.cx.series, 5));
            let ej = current(&w(|h| &h.ejected.series, 5));
            let style = if ej.is_some_and(|e| e > 0.0) || err.is_some_and(|e| e > 0.0) {
                theme.style("health.unhealthy")
            } else {
                ratatui::style::Style::default()
            };
            lines.push(Line::from(vec![
                Span::styled(
                    format!(" {:<21}{:>6} ", key.to_string(), number(current(&rq))),
                    style,
                ),
                Span::styled(
                    format!("{:<spark_w$}", spark(&rq)),
                    theme.style("share.bar"),
                ),
                Span::styled(
                    format!(" {:>6} {:>4} {:>3}", number(err), number(cx), number(ej)),
                    style,
                ),
            ]));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}
