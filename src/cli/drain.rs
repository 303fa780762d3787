//! `meshdeck drain NS/NAME` and `meshdeck restore NS/NAME`: the console's `d` and `r` for
//! scripts, on manifests or a cluster, with `--wait` following the change until every known
//! Envoy agrees. Exit 0: done, 1: refused, failed or timed out (the reason on stderr), 2: usage.

use super::args::ConsoleArgs;
use super::follow::Follower;
use super::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use crate::io::source::files::FileSource;
use crate::io::source::{Change, FieldEdit, Source, WriteMode};
use crate::model::drain;
use crate::model::endpoint::EndpointSource;
use crate::model::object::{Kind, ObjectKey};
use crate::model::planes::verify::{Wanted, targets};
use crate::model::store::Store;
use std::io::Write;
use std::time::Duration;

pub struct Rotation {
    pub entry: String,
    pub drain: bool,
    pub wait: bool,
    pub timeout: Duration,
    /// Drain although a warning was given.
    pub force: bool,
}

impl Rotation {
    pub fn from_args(a: super::args::RotationArgs, drain: bool) -> Rotation {
        Rotation {
            entry: a.entry,
            drain,
            wait: a.wait,
            timeout: a.timeout,
            force: a.force,
        }
    }
}

fn key_of(entry: &str) -> Result<ObjectKey, String> {
    match entry.split('/').collect::<Vec<_>>().as_slice() {
        [ns, name] if !ns.is_empty() && !name.is_empty() => {
            Ok(ObjectKey::new(Kind::WorkloadEntry, *ns, *name))
        }
        _ => Err(format!(
            "{entry:?}: write NAMESPACE/NAME of a WorkloadEntry (inline endpoints and pods cannot be drained)"
        )),
    }
}

/// The edit, or (exit code, message).
fn plan(
    store: &Store,
    key: &ObjectKey,
    r: &Rotation,
    user: &str,
) -> Result<FieldEdit, (i32, String)> {
    let refused = |e: drain::Refused| (EXIT_FINDINGS, e.to_string());
    let change = if r.drain {
        let at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let p = drain::plan(store, key, user, &at).map_err(refused)?;
        if !p.warnings.is_empty() {
            let said: Vec<String> = p
                .warnings
                .iter()
                .map(|w| format!("warning: {key}: {w}"))
                .collect();
            if !r.force {
                return Err((
                    EXIT_FINDINGS,
                    format!(
                        "{}\nnothing was drained; run again with --force to drain anyway",
                        said.join("\n")
                    ),
                ));
            }
            eprintln!("{}", said.join("\n"));
        }
        Change::Drain { record: p.record }
    } else {
        Change::Restore {
            record: drain::restore_plan(store, key).map_err(refused)?,
        }
    };
    let entry = store.get(key);
    Ok(FieldEdit {
        target: EndpointSource::WorkloadEntry {
            namespace: key.namespace.to_string(),
            name: key.name.to_string(),
            cluster: key.cluster.clone(),
        },
        change,
        revision: entry.and_then(|e| {
            e.origin
                .as_ref()
                .map(|o| o.revision.clone())
                .or_else(|| e.object.meta().resource_version.clone())
        }),
        origin: entry.and_then(|e| e.origin.clone()),
        mode: WriteMode::Precondition,
    })
}

pub async fn run(console: &ConsoleArgs, r: Rotation, out: &mut dyn Write) -> i32 {
    let verb = if r.drain { "drain" } else { "restore" };
    let key = match key_of(&r.entry) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if r.wait && console.planes.is_empty() {
        eprintln!(
            "error: {verb} --wait follows the change through the planes: give --xds, --istiod or --envoy-admin"
        );
        return EXIT_USAGE;
    }
    let cluster = crate::io::kube::client::Target {
        kubeconfig: console.kubeconfig.clone(),
        context: console.context(),
    };
    let on_files = !console.manifests.is_empty();
    if !on_files && !crate::io::kube::client::configured(&cluster) {
        eprintln!(
            "error: meshdeck {verb} needs --manifests PATH, or a cluster (--kubeconfig, $KUBECONFIG, ~/.kube/config)"
        );
        return EXIT_USAGE;
    }
    let user = crate::io::kube::audit::who();
    let (store, kube) = if on_files {
        (super::get::load_files(&console.manifests), None)
    } else {
        match super::set::cluster_source(&cluster, Some(&key.namespace), console.readonly, false)
            .await
        {
            Ok((source, store)) => (store, Some(source)),
            Err(e) => {
                eprintln!("error: {e:#}");
                return EXIT_USAGE;
            }
        }
    };
    let edit = match plan(&store, &key, &r, &user) {
        Ok(e) => e,
        Err((code, message)) => {
            eprintln!("error: {message}");
            return code;
        }
    };
    let what = edit.describe();
    let follower = if r.wait {
        let wanted = Wanted {
            source: edit.target.clone(),
            weight: None,
            locality: None,
            present: Some(!r.drain),
        };
        let t = targets(&store, &[wanted]);
        if t.is_empty() {
            eprintln!("warning: {key} is an endpoint of no service: there is nothing to follow");
            None
        } else {
            match Follower::start(&console.planes, &what, t).await {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!(
                        "error: the planes could not be read before the {verb}: {e}; nothing was written"
                    );
                    return EXIT_FINDINGS;
                }
            }
        }
    } else {
        None
    };
    let result = match kube {
        Some(mut source) => source.apply(vec![edit.clone()]).await,
        None => {
            FileSource::new(console.manifests.clone(), console.readonly)
                .apply(vec![edit.clone()])
                .await
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        return EXIT_FINDINGS;
    }
    let _ = writeln!(out, "{}", done_line(&edit));
    let Some(follower) = follower else {
        return EXIT_OK;
    };
    match follower.wait(r.timeout, out).await {
        Ok(followed) => {
            let _ = writeln!(out, "{}", followed.summary);
            EXIT_OK
        }
        Err(why) => {
            eprintln!("error: {why}");
            EXIT_FINDINGS
        }
    }
}

fn done_line(edit: &FieldEdit) -> String {
    let key = edit.object();
    match &edit.change {
        Change::Drain { record } => format!(
            "drained {key}: out of EDS (health checks on, Healthy=False by {} with meshdeck); `meshdeck restore {}/{}` puts it back",
            record.by, key.namespace, key.name
        ),
        Change::Restore { record } => format!(
            "restored {key}: as before the drain by {} at {}",
            record.by, record.at
        ),
        _ => edit.describe(),
    }
}
