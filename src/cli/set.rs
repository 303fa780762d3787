//! `meshdeck set weight|locality`: the TUI's edit, for scripts, with the same checks.

use super::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, load};
use crate::io::source::files::FileSource;
use crate::io::source::{Change, FieldEdit, Source};
use crate::model::endpoint::EndpointSource;
use crate::model::object::{Kind, Object, ObjectKey};
use crate::model::store::Store;
use crate::model::validate::{check_locality, parse_weight};
use std::io::Write;
use std::path::PathBuf;

pub enum Field {
    Weight,
    Locality,
}

/// Finds the endpoint `NS/NAME` (a WorkloadEntry) or `NS/SE/INDEX` (an inline endpoint).
pub fn resolve(
    store: &Store,
    target: &str,
    field: &Field,
    value: &str,
) -> Result<FieldEdit, String> {
    let parts: Vec<&str> = target.split('/').collect();
    let (key, source, spec) = match parts.as_slice() {
        [ns, name] => {
            let key = ObjectKey::new(Kind::WorkloadEntry, *ns, *name);
            let Some(Object::WorkloadEntry(we)) = store.get(&key).map(|e| &e.object) else {
                return Err(format!("no WorkloadEntry {ns}/{name} in the manifests"));
            };
            (
                key,
                EndpointSource::WorkloadEntry {
                    namespace: ns.to_string(),
                    name: name.to_string(),
                    cluster: Default::default(),
                },
                we.spec.clone(),
            )
        }
        [ns, se, index] => {
            let key = ObjectKey::new(Kind::ServiceEntry, *ns, *se);
            let i: usize = index
                .parse()
                .map_err(|_| format!("{index:?} is not an endpoint index"))?;
            let Some(Object::ServiceEntry(s)) = store.get(&key).map(|e| &e.object) else {
                return Err(format!("no ServiceEntry {ns}/{se} in the manifests"));
            };
            let spec = s.spec.endpoints.get(i).cloned().ok_or_else(|| {
                format!(
                    "ServiceEntry {ns}/{se} has {} inline endpoints; there is no [{i}]",
                    s.spec.endpoints.len()
                )
            })?;
            (
                key,
                EndpointSource::ServiceEntry {
                    namespace: ns.to_string(),
                    name: se.to_string(),
                    index: i,
                    cluster: Default::default(),
                },
                spec,
            )
        }
        _ => {
            return Err(format!(
                "target {target:?}: write NAMESPACE/NAME for a WorkloadEntry or NAMESPACE/SERVICEENTRY/INDEX for an inline endpoint"
            ));
        }
    };
    let change = match field {
        Field::Weight => Change::Weight {
            from: spec.weight,
            to: parse_weight(value)?,
        },
        Field::Locality => {
            check_locality(value)?;
            Change::Locality {
                from: spec.locality.clone(),
                to: value.to_string(),
            }
        }
    };
    let origin = store.get(&key).and_then(|e| e.origin.clone());
    Ok(FieldEdit {
        target: source,
        change,
        revision: origin.as_ref().map(|o| o.revision.clone()).or_else(|| {
            store
                .get(&key)
                .and_then(|e| e.object.meta().resource_version.clone())
        }),
        origin,
        mode: Default::default(),
    })
}

pub async fn run(
    roots: &[PathBuf],
    readonly: bool,
    target: &str,
    field: Field,
    value: &str,
    dry_run: bool,
    out: &mut dyn Write,
) -> i32 {
    if roots.is_empty() {
        let _ = writeln!(out, "error: meshdeck set needs --manifests PATH");
        return EXIT_USAGE;
    }
    let loaded = load(roots);
    let edit = match resolve(&loaded.store, target, &field, value) {
        Ok(e) => e,
        Err(msg) => {
            let _ = writeln!(out, "error: {msg}");
            return EXIT_FINDINGS;
        }
    };
    let mut source = FileSource::new(roots.to_vec(), readonly);
    if dry_run {
        return match source.plan(std::slice::from_ref(&edit)) {
            Ok(plans) => {
                for p in plans {
                    let _ = writeln!(out, "would change {}:", p.path.display());
                    let (removed, added) = changed_lines(&p.before, &p.after);
                    for l in removed {
                        let _ = writeln!(out, "- {l}");
                    }
                    for l in added {
                        let _ = writeln!(out, "+ {l}");
                    }
                }
                EXIT_OK
            }
            Err(e) => {
                let _ = writeln!(out, "error: {e}");
                EXIT_FINDINGS
            }
        };
    }
    match source.apply(vec![edit.clone()]).await {
        Ok(_) => {
            let _ = writeln!(out, "{}", edit.describe());
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
            EXIT_FINDINGS
        }
    }
}

/// The lines between the common head and the common tail of two texts.
fn changed_lines<'a>(before: &'a str, after: &'a str) -> (Vec<&'a str>, Vec<&'a str>) {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    (
        a[head..a.len() - tail].to_vec(),
        b[head..b.len() - tail].to_vec(),
    )
}

/// The cluster as a source for headless edits, and its registry (of `namespace`, or all).
pub async fn cluster_source(
    t: &crate::io::kube::client::Target,
    namespace: Option<&str>,
    readonly: bool,
    dry_run: bool,
) -> anyhow::Result<(crate::io::kube::apply::KubeSource, Store)> {
    use crate::io::kube::{apply::KubeSource, audit, client, discovery, list};
    let c = client::connect(t).await?;
    let versions = discovery::versions(&c.client)
        .await?
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    let store = list::store(&c.client, namespace).await?;
    let source = KubeSource {
        user: crate::io::kube::access::whoami(&c.client).await,
        client: c.client.clone(),
        versions,
        readonly,
        label: c.context.clone(),
        context: c.context.clone(),
        audit_log: audit::default_log(),
        dry_run,
    };
    Ok((source, store))
}

pub struct ClusterSet {
    pub target: String,
    pub field: Field,
    pub value: String,
    pub dry_run: bool,
    pub force: bool,
    pub readonly: bool,
}

/// `meshdeck set` against a cluster: the same validation, then server-side apply (a server dry
/// run with `--dry-run`); a field owned by another manager needs `--force`.
pub async fn run_cluster(
    t: &crate::io::kube::client::Target,
    s: ClusterSet,
    out: &mut dyn Write,
) -> i32 {
    let result: anyhow::Result<i32> = async {
        let ns = s.target.split('/').next();
        let (mut source, store) = cluster_source(t, ns, s.readonly, s.dry_run).await?;
        let mut edit = match resolve(&store, &s.target, &s.field, &s.value) {
            Ok(e) => e,
            Err(msg) => {
                writeln!(out, "error: {msg}")?;
                return Ok(EXIT_FINDINGS);
            }
        };
        if s.force {
            edit.mode = crate::io::source::WriteMode::ForceApply;
        }
        Ok(match source.apply(vec![edit.clone()]).await {
            Ok(applied) => {
                let verb = if s.dry_run {
                    "server dry run accepted"
                } else {
                    "applied"
                };
                writeln!(out, "{verb}: {}", edit.describe())?;
                for w in applied.iter().flat_map(|a| &a.warnings) {
                    writeln!(
                        out,
                        "warning from the API server: {}",
                        crate::io::kube::warnings::explain(w)
                    )?;
                }
                EXIT_OK
            }
            Err(e @ crate::io::source::ApplyError::Owned { .. }) => {
                writeln!(out, "error: {e}; run again with --force to take it over")?;
                EXIT_FINDINGS
            }
            Err(e) => {
                writeln!(out, "error: {e}")?;
                EXIT_FINDINGS
            }
        })
    }
    .await;
    result.unwrap_or_else(|e| {
        let _ = writeln!(out, "error: {e:#}");
        EXIT_USAGE
    })
}
