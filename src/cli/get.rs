//! `meshdeck get`: objects and derived endpoints as tables, JSON or YAML.

use super::args::{Output, Scope};
use super::{EXIT_OK, EXIT_USAGE, load};
use crate::model::endpoint::{EndpointSource, derive};
use crate::model::object::{Kind, Object};
use crate::model::share::Viewpoint;
use crate::model::store::Store;
use crate::view::rows;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;

pub fn run(
    roots: &[PathBuf],
    resource: &str,
    name: Option<&str>,
    scope: &Scope,
    output: Output,
    out: &mut dyn Write,
) -> i32 {
    let loaded = load(roots);
    for e in &loaded.errors {
        eprintln!("warning: {e}");
    }
    print(&loaded.store, resource, name, scope, output, out)
}

/// Prints from any store: files or a cluster give the same shapes.
pub fn print(
    store: &Store,
    resource: &str,
    name: Option<&str>,
    scope: &Scope,
    output: Output,
    out: &mut dyn Write,
) -> i32 {
    let ns = scope.namespace.as_deref();
    let in_scope = |n: &str| ns.is_none_or(|want| want == n);
    let result = if matches!(resource, "endpoints" | "endpoint" | "ep") {
        endpoints(store, name, &in_scope)
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
) -> (Vec<String>, Value) {
    let mut values = Vec::new();
    let mut body = Vec::new();
    for entry in store.entries(Kind::ServiceEntry) {
        let Object::ServiceEntry(se) = &entry.object else {
            continue;
        };
        let key = entry.object.key();
        if !in_scope(&key.namespace)
            || host.is_some_and(|h| !se.spec.hosts.iter().any(|x| x == h) && key.name != h)
        {
            continue;
        }
        let Some(derived) = derive(store, &key, &Viewpoint::default()) else {
            continue;
        };
        let service_host = se.spec.hosts.first().cloned().unwrap_or_default();
        for port in &derived.ports {
            for ep in &port.endpoints {
                let (src_kind, src_ns, src_name) = match &ep.source {
                    EndpointSource::WorkloadEntry { namespace, name } => {
                        ("WorkloadEntry", namespace.clone(), name.clone())
                    }
                    EndpointSource::Pod { namespace, name } => {
                        ("Pod", namespace.clone(), name.clone())
                    }
                    EndpointSource::ServiceEntry {
                        namespace,
                        name,
                        index,
                    } => (
                        "ServiceEntry",
                        namespace.clone(),
                        format!("{name}[{index}]"),
                    ),
                };
                values.push(json!({
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
                }));
                body.push(vec![
                    service_host.clone(),
                    port.port_number.to_string(),
                    format!("{}/{}", src_ns, src_name),
                    format!("{}:{}", ep.address, ep.port),
                    ep.weight.to_string(),
                    ep.locality.to_string(),
                    ep.health.label().to_string(),
                    format!("{:.1}%", ep.share * 100.0),
                ]);
            }
        }
    }
    let header = [
        "HOST", "PORT", "SOURCE", "ADDRESS", "WEIGHT", "LOCALITY", "HEALTH", "SHARE",
    ]
    .map(String::from)
    .to_vec();
    (rows::text_table(&header, &body), Value::Array(values))
}
