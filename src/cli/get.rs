//! `meshdeck get`: objects and derived endpoints as tables, JSON or YAML.

use super::args::{Output, Scope};
use super::planes::Gathered;
use super::{EXIT_OK, EXIT_USAGE, load};
use crate::model::endpoint::Endpoint;
use crate::model::endpoint::{EndpointSource, derive};
use crate::model::object::{Kind, Object, ObjectKey, ServiceEntry};
use crate::model::planes::Planes;
use crate::model::planes::{HostKey, cluster_name};
use crate::model::share::Viewpoint;
use crate::model::store::Store;
use crate::present::cells as rows;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

pub fn load_files(roots: &[PathBuf]) -> Store {
    let loaded = load(roots);
    for e in &loaded.errors {
        eprintln!("warning: {e}");
    }
    loaded.store
}

fn is_endpoints(resource: &str) -> bool {
    matches!(resource, "endpoints" | "endpoint" | "ep")
}

/// The Envoy clusters of the endpoints `get` would print: what to ask the xDS servers for.
pub fn wanted_clusters(
    store: &Store,
    resource: &str,
    host: Option<&str>,
    scope: &Scope,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if !is_endpoints(resource) {
        return out;
    }
    let ns = scope.namespace.as_deref();
    for (_, se) in services(store, host, &|n| ns.is_none_or(|want| want == n)) {
        for port in &se.spec.ports {
            for h in &se.spec.hosts {
                out.insert(cluster_name(port.number, h));
            }
        }
    }
    out
}

fn services<'a>(
    store: &'a Store,
    host: Option<&'a str>,
    in_scope: &'a dyn Fn(&str) -> bool,
) -> impl Iterator<Item = (ObjectKey, &'a ServiceEntry)> + 'a {
    store.entries(Kind::ServiceEntry).filter_map(move |entry| {
        let Object::ServiceEntry(se) = &entry.object else {
            return None;
        };
        let key = entry.object.key();
        let wanted = in_scope(&key.namespace)
            && host.is_none_or(|h| se.spec.hosts.iter().any(|x| x == h) || key.name == h);
        wanted.then_some((key, se))
    })
}

/// What `get` was asked for.
pub struct Query<'a> {
    pub resource: &'a str,
    pub name: Option<&'a str>,
    pub scope: &'a Scope,
}

/// Prints from any store: files or a cluster give the same shapes. Endpoints are derived for
/// `view` and compared with what `planes` answered.
pub fn print(
    store: &Store,
    query: &Query<'_>,
    output: Output,
    planes: Option<&Gathered>,
    view: &Viewpoint,
    out: &mut dyn Write,
) -> i32 {
    let Query {
        resource,
        name,
        scope,
    } = *query;
    let ns = scope.namespace.as_deref();
    let in_scope = |n: &str| ns.is_none_or(|want| want == n);
    let result = if is_endpoints(resource) {
        endpoints(store, name, &in_scope, planes, view)
    } else {
        let Some(kind) = Kind::from_alias(resource) else {
            eprintln!("unknown resource {resource:?}: use we, se, wg, dr, sidecar or endpoints");
            return EXIT_USAGE;
        };
        objects(store, kind, name, &in_scope)
    };
    let (table, values) = result;
    let written = match output {
        Output::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&values).unwrap_or_default()
        ),
        Output::Yaml => write!(
            out,
            "{}",
            serde_saphyr::to_string(&values).unwrap_or_default()
        ),
        Output::Table => table.iter().try_for_each(|l| writeln!(out, "{l}")),
    };
    if written.is_err() {
        EXIT_USAGE
    } else {
        EXIT_OK
    }
}

fn objects(
    store: &Store,
    kind: Kind,
    name: Option<&str>,
    in_scope: &dyn Fn(&str) -> bool,
) -> (Vec<String>, Value) {
    let entries: Vec<_> = store
        .entries(kind)
        .filter(|e| in_scope(&e.object.key().namespace))
        .filter(|e| name.is_none_or(|n| e.object.meta().name == n))
        .collect();
    let values = Value::Array(entries.iter().map(|e| e.object.to_value()).collect());
    let header = rows::header(kind);
    let body: Vec<Vec<String>> = entries
        .iter()
        .map(|e| rows::cells(store, &e.object))
        .collect();
    (rows::text_table(&header, &body), values)
}

fn endpoints(
    store: &Store,
    host: Option<&str>,
    in_scope: &dyn Fn(&str) -> bool,
    planes: Option<&Gathered>,
    view: &Viewpoint,
) -> (Vec<String>, Value) {
    let mut values = Vec::new();
    let mut body = Vec::new();
    for (key, se) in services(store, host, in_scope) {
        let Some(derived) = derive(store, &key, view) else {
            continue;
        };
        let service_host = se.spec.hosts.first().cloned().unwrap_or_default();
        for port in &derived.ports {
            for ep in &port.endpoints {
                let (src_kind, src_ns, src_name) = match &ep.source {
                    EndpointSource::WorkloadEntry {
                        namespace, name, ..
                    } => ("WorkloadEntry", namespace.clone(), name.clone()),
                    EndpointSource::Pod {
                        namespace, name, ..
                    } => ("Pod", namespace.clone(), name.clone()),
                    EndpointSource::ServiceEntry {
                        namespace,
                        name,
                        index,
                        ..
                    } => (
                        "ServiceEntry",
                        namespace.clone(),
                        format!("{name}[{index}]"),
                    ),
                };
                let cluster = cluster_name(port.port_number, &service_host);
                let mut value = json!({
                    "service_host": service_host,
                    "service_port": port.port_number,
                    "namespace": key.namespace,
                    "source": {"kind": src_kind, "namespace": src_ns, "name": src_name},
                    "address": ep.address,
                    "endpoint_port": ep.port,
                    "weight": ep.weight,
                    "locality": {"region": ep.locality.region, "zone": ep.locality.zone, "subzone": ep.locality.subzone},
                    "network": ep.network,
                    "health": ep.health.label(),
                    "share": ep.share,
                });
                let hidden = derived.hidden_host(&service_host, view.namespace.as_deref());
                if let (Some(h), Value::Object(m)) = (&hidden, &mut value) {
                    m.insert(
                        "not_sent_to_viewpoint".into(),
                        json!({"code": h.hidden.code(), "reason": h.reason(), "namespace": h.namespace}),
                    );
                }
                let mut extra = Vec::new();
                if let Some(g) = planes {
                    let (planes_json, cells) = plane_fields(g, &cluster, ep, hidden.as_ref());
                    if let Value::Object(m) = &mut value {
                        m.extend(planes_json);
                    }
                    extra = cells;
                }
                values.push(value);
                body.push(
                    vec![
                        service_host.clone(),
                        port.port_number.to_string(),
                        format!("{}/{}", src_ns, src_name),
                        format!("{}:{}", ep.address, ep.port),
                        ep.weight.to_string(),
                        ep.locality.to_string(),
                        ep.health.label().to_string(),
                        format!("{:.1}%", ep.share * 100.0),
                    ]
                    .into_iter()
                    .chain(extra)
                    .collect(),
                );
            }
        }
    }
    let mut header = [
        "HOST", "PORT", "SOURCE", "ADDRESS", "WEIGHT", "LOCALITY", "HEALTH", "SHARE",
    ]
    .map(String::from)
    .to_vec();
    if planes.is_some() {
        header.extend(["SENT", "ENVOY", "DRIFT"].map(String::from));
    }
    (rows::text_table(&header, &body), Value::Array(values))
}

/// The `control`, `data` and `drift` fields of one endpoint, and its three table cells.
fn plane_fields(
    g: &Gathered,
    cluster: &str,
    ep: &Endpoint,
    hidden: Option<&crate::model::planes::drift::HiddenHost>,
) -> (serde_json::Map<String, Value>, Vec<String>) {
    let key = HostKey::new(ep.address.clone(), ep.port);
    let control = g.control.iter().find(|c| c.knows(cluster));
    let sent = control.and_then(|c| c.endpoint(cluster, &key));
    let drift = Planes {
        control,
        syncs: &g.syncs,
        proxies: g.proxies.iter().collect(),
    }
    .drift(cluster, ep, hidden);
    let mut data = serde_json::Map::new();
    let mut held = Vec::new();
    for p in &g.proxies {
        let h = p.host(cluster, &key);
        data.insert(
            p.name.clone(),
            h.map_or(Value::Null, |h| {
                json!({
                    "health_flags": h.flags,
                    "weight": h.weight,
                    "priority": h.priority,
                    "locality": h.locality.to_string(),
                    "rq_total": h.rq_total,
                    "rq_error": h.rq_error,
                    "cx_active": h.cx_active,
                })
            }),
        );
        held.push(match h {
            None => format!("{}:-", p.name),
            Some(h) if h.flags.is_empty() => format!("{}:w{}", p.name, h.weight),
            Some(h) => format!("{}:w{} {}", p.name, h.weight, h.flags.join(",")),
        });
    }
    let mut m = serde_json::Map::new();
    m.insert(
        "control".into(),
        match (control, sent) {
            (Some(c), Some(s)) => json!({
                "server": c.server,
                "version": c.eds_version,
                "weight": s.weight,
                "locality": s.locality.to_string(),
                "priority": s.priority,
                "health": s.health,
            }),
            _ => Value::Null,
        },
    );
    m.insert("data".into(), Value::Object(data));
    m.insert(
        "drift".into(),
        serde_json::to_value(&drift).unwrap_or_default(),
    );
    let cells = vec![
        match (control, sent) {
            (_, Some(s)) => format!("w{} p{}", s.weight, s.priority),
            (Some(_), None) => "not sent".into(),
            (None, None) => "-".into(),
        },
        held.join(" "),
        drift.iter().map(|d| d.code).collect::<Vec<_>>().join(","),
    ];
    (m, cells)
}
