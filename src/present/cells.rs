//! Row cells of every object list, shared by the console's tables (update sorts by them, the
//! views show them) and `meshdeck get`.

use crate::model::endpoint::{derive, locality_of};
use crate::model::health;
use crate::model::object::{Kind, Object, ObjectKey};
use crate::model::share::Viewpoint;
use crate::model::store::{Store, we_labels};
use unicode_width::UnicodeWidthStr;

pub fn header(kind: Kind) -> Vec<String> {
    let h: &[&str] = match kind {
        Kind::ServiceEntry => &[
            "NAMESPACE",
            "NAME",
            "HOSTS",
            "PORTS",
            "LOCATION",
            "RESOLUTION",
            "ENDPOINTS",
        ],
        Kind::WorkloadEntry => &[
            "NAMESPACE",
            "NAME",
            "ADDRESS",
            "WEIGHT",
            "LOCALITY",
            "NETWORK",
            "HEALTH",
            "SELECTED BY",
            "REGISTRATION",
        ],
        Kind::WorkloadGroup => &[
            "NAMESPACE",
            "NAME",
            "TEMPLATE",
            "PROBE",
            "ENTRIES",
            "CONNECTED",
        ],
        Kind::DestinationRule => &["NAMESPACE", "NAME", "HOST", "LOCALITY LB", "OUTLIER"],
        Kind::Sidecar => &["NAMESPACE", "NAME", "SELECTOR"],
        Kind::Pod => &["NAMESPACE", "NAME", "IP", "READY"],
    };
    h.iter().map(|s| s.to_string()).collect()
}

/// Columns to leave out on a narrow terminal, first to go first.
pub fn optional_columns(kind: Kind) -> Vec<usize> {
    match kind {
        Kind::ServiceEntry => vec![4, 3, 0],
        Kind::WorkloadEntry => vec![8, 5, 7, 0],
        Kind::WorkloadGroup => vec![5, 0],
        Kind::DestinationRule => vec![4, 0],
        Kind::Sidecar | Kind::Pod => vec![],
    }
}

/// Healthy and all endpoints of a ServiceEntry, as its ENDPOINTS cell counts them (from no
/// particular proxy).
pub fn endpoint_counts(store: &Store, se: &ObjectKey) -> (usize, usize) {
    derive(store, se, &Viewpoint::default())
        .map(|d| d.healthy_total())
        .unwrap_or((0, 0))
}

pub fn cells(store: &Store, obj: &Object) -> Vec<String> {
    cells_with(store, obj, None)
}

/// The cells of a row; a ServiceEntry's endpoint counts are derived unless `counts` has them
/// already (the console keeps them per store generation: a view never derives).
pub fn cells_with(store: &Store, obj: &Object, counts: Option<(usize, usize)>) -> Vec<String> {
    let mut row = kind_cells(store, obj, counts);
    // With several clusters watched, the last column says whose object it is.
    let cluster = &obj.meta().cluster;
    if !cluster.is_only() {
        row.push(cluster.name().to_string());
    }
    row
}

/// The column a console watching several clusters adds to every list.
pub const CLUSTER_COLUMN: &str = "CLUSTER";

fn kind_cells(store: &Store, obj: &Object, counts: Option<(usize, usize)>) -> Vec<String> {
    let key = obj.key();
    let mut row = vec![key.namespace.clone(), key.name.clone()];
    match obj {
        Object::ServiceEntry(se) => {
            let (healthy, total) = counts.unwrap_or_else(|| endpoint_counts(store, &key));
            row.extend([
                se.spec.hosts.join(","),
                se.spec
                    .ports
                    .iter()
                    .map(|p| format!("{}/{}", p.number, p.name))
                    .collect::<Vec<_>>()
                    .join(","),
                se.spec
                    .location_or_default()
                    .trim_start_matches("MESH_")
                    .to_string(),
                se.spec.resolution_or_default().to_string(),
                format!("{healthy}/{total}"),
            ]);
        }
        Object::WorkloadEntry(we) => {
            let selected: Vec<String> = store.selecting_ses(&key).map(|k| k.name.clone()).collect();
            row.extend([
                we.spec.address.clone().unwrap_or_default(),
                we.spec.weight.map_or("-".into(), |w| w.to_string()),
                locality_of(&we.spec, &we_labels(we)).to_string(),
                we.spec.network.clone().unwrap_or_default(),
                health::of_workload_entry(we).label().to_string(),
                if selected.is_empty() {
                    "-".into()
                } else {
                    selected.join(",")
                },
                registration(we),
            ]);
        }
        Object::WorkloadGroup(wg) => {
            let t = &wg.spec.template;
            let ports: Vec<String> = t.ports.iter().map(|(n, p)| format!("{n}:{p}")).collect();
            let mut template = vec![];
            if let Some(sa) = &t.service_account {
                template.push(format!("sa={sa}"));
            }
            if let Some(net) = &t.network {
                template.push(format!("net={net}"));
            }
            if !ports.is_empty() {
                template.push(ports.join(","));
            }
            let entries = store.group_entries(&key).count();
            let healthy = store
                .group_entries(&key)
                .filter(|k| matches!(store.get(k).map(|e| &e.object), Some(Object::WorkloadEntry(w)) if health::of_workload_entry(w).is_healthy()))
                .count();
            let connected = store
                .group_entries(&key)
                .filter(|k| matches!(store.get(k).map(|e| &e.object), Some(Object::WorkloadEntry(w)) if is_connected(w)))
                .count();
            row.extend([
                template.join(" "),
                wg.spec
                    .probe
                    .as_ref()
                    .map_or("none".into(), |p| p.summary()),
                format!("{healthy}/{entries}"),
                format!("{connected}/{entries}"),
            ]);
        }
        Object::DestinationRule(dr) => {
            let lb = dr.spec.locality_lb().map_or("-".to_string(), |l| {
                let mut parts = vec![];
                if !l.failover.is_empty() {
                    parts.push(format!(
                        "failover {}",
                        l.failover
                            .iter()
                            .map(|f| format!("{}→{}", f.from, f.to))
                            .collect::<Vec<_>>()
                            .join(",")
                    ));
                }
                if !l.distribute.is_empty() {
                    parts.push(format!("distribute {}", l.distribute.len()));
                }
                if !l.failover_priority.is_empty() {
                    parts.push(format!("priority {}", l.failover_priority.join(",")));
                }
                if parts.is_empty() {
                    "on".into()
                } else {
                    parts.join(" ")
                }
            });
            row.extend([
                dr.spec.host.clone(),
                lb,
                if dr.spec.has_outlier_detection() {
                    "yes".into()
                } else {
                    "no".into()
                },
            ]);
        }
        Object::Sidecar(sc) => {
            let sel = sc
                .spec
                .workload_selector
                .as_ref()
                .map_or("-".to_string(), |s| {
                    s.labels
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                });
            row.push(sel);
        }
    }
    row
}

pub const CONNECTED_AT: &str = "istio.io/connectedAt";
pub const DISCONNECTED_AT: &str = "istio.io/disconnectedAt";

/// An auto-registered entry is connected when its last connect is newer than its last disconnect.
pub fn is_connected(we: &crate::model::object::WorkloadEntry) -> bool {
    let a = &we.metadata.annotations;
    match (a.get(CONNECTED_AT), a.get(DISCONNECTED_AT)) {
        (Some(c), Some(d)) => c > d,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Auto-registration in a few words: `ratings connected 11-20T09:12`, `manual`.
fn registration(we: &crate::model::object::WorkloadEntry) -> String {
    let a = &we.metadata.annotations;
    let short = |t: &String| t.get(5..16).unwrap_or(t).to_string();
    let group = crate::model::store::owning_group(we);
    let state = match (a.get(CONNECTED_AT), a.get(DISCONNECTED_AT)) {
        _ if is_connected(we) => a
            .get(CONNECTED_AT)
            .map(|c| format!("connected {}", short(c))),
        (_, Some(d)) => Some(format!("disconnected {}", short(d))),
        _ => None,
    };
    match (group, state) {
        (Some(g), Some(s)) => format!("{g} {s}"),
        (Some(g), None) => g,
        (None, Some(s)) => s,
        (None, None) => "manual".into(),
    }
}

/// An object as YAML, as the YAML screen shows it.
pub fn yaml_of(obj: &Object) -> String {
    serde_saphyr::to_string(&obj.to_value()).unwrap_or_else(|e| format!("# cannot render: {e}"))
}

/// Plain-text table with columns padded to their widest cell.
pub fn text_table(header: &[String], body: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in body {
        for (i, c) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.width());
            }
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(widths[i] - c.width() + 2));
            }
        }
        s
    };
    std::iter::once(line(header))
        .chain(body.iter().map(|r| line(r)))
        .collect()
}

/// The Proxies screen's columns (the view's header; update sorts by them).
pub const PROXY_COLUMNS: [&str; 10] = [
    "NAME",
    "CDS",
    "LDS",
    "EDS",
    "RDS",
    "CONTROL PLANE",
    "LOCALITY",
    "ADMIN",
    "POLLED",
    "HOLDS",
];
