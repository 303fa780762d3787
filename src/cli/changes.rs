//! `meshdeck changes`: what changed lately and who changed it, from what the cluster keeps
//! (managedFields, Events), as a table or JSON.

use super::args::{ConsoleArgs, Output};
use super::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use crate::model::object::{Kind, ObjectKey};
use crate::model::store::Store;
use crate::model::timeline::history::{self, RecordedEvent};
use crate::model::timeline::{Change, ChangeKind};
use crate::present::cells::text_table;
use crate::present::changes::{HEADER, cells};
use std::collections::BTreeSet;
use std::io::Write;
use std::time::{Duration, SystemTime};

pub struct Query {
    pub since: Duration,
    pub kind: Option<String>,
    pub object: Option<String>,
    pub output: Output,
}

pub async fn run(console: &ConsoleArgs, q: Query, out: &mut dyn Write) -> i32 {
    let kind = match q.kind.as_deref().map(|k| (k, ChangeKind::parse(k))) {
        Some((word, None)) => {
            let kinds: Vec<_> = ChangeKind::ALL.iter().map(|k| k.as_str()).collect();
            eprintln!(
                "meshdeck changes: no kind of change {word:?}: {}",
                kinds.join(", ")
            );
            return EXIT_USAGE;
        }
        Some((_, k)) => k,
        None => None,
    };
    let object = match q.object.as_deref().map(|o| (o, o.split_once('/'))) {
        Some((_, Some((ns, name)))) if !ns.is_empty() && !name.is_empty() => {
            Some((ns.to_string(), name.to_string()))
        }
        Some((o, _)) => {
            eprintln!("meshdeck changes: {o:?} is not NS/NAME");
            return EXIT_USAGE;
        }
        None => None,
    };
    let now = SystemTime::now();
    let since = now.checked_sub(q.since).unwrap_or(SystemTime::UNIX_EPOCH);
    let (store, events) = if console.manifests.is_empty() {
        match from_cluster(console).await {
            Ok(read) => read,
            Err((code, message)) => {
                eprintln!("{message}");
                return code;
            }
        }
    } else {
        eprintln!(
            "note: manifest files keep no history (no managedFields, no Events): only creation \
             times written in them are told; the console's Timeline (8) records what changes \
             while it runs"
        );
        (super::get::load_files(&console.manifests), Vec::new())
    };
    let ns = console.scope.namespace.as_deref();
    let wanted = object.map(|(ns, name)| scope(&store, &ns, &name));
    let objects = Kind::ALL
        .into_iter()
        .flat_map(|k| store.entries(k))
        .map(|e| &e.object)
        .filter(|o| ns.is_none_or(|n| o.meta().namespace.as_deref() == Some(n)));
    let changes: Vec<Change> = history::at_start(objects, &events, since)
        .into_iter()
        .filter(|c| kind.is_none_or(|k| c.kind == k))
        .filter(|c| ns.is_none_or(|n| c.object.as_ref().is_none_or(|o| o.namespace == n)))
        .filter(|c| {
            wanted
                .as_ref()
                .is_none_or(|w| c.object.as_ref().is_some_and(|o| w.contains(o)))
        })
        .collect();
    let written = match q.output {
        Output::Table => {
            let header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
            let body: Vec<Vec<String>> = changes.iter().map(|c| cells(c, true).to_vec()).collect();
            if changes.is_empty() {
                writeln!(
                    out,
                    "no change since {}",
                    humantime::format_rfc3339_seconds(since)
                )
            } else {
                text_table(&header, &body)
                    .into_iter()
                    .try_for_each(|l| writeln!(out, "{}", l.trim_end()))
            }
        }
        Output::Json | Output::Yaml => {
            let items: Vec<_> = changes.iter().map(Change::to_json).collect();
            let doc = serde_json::Value::Array(items);
            if q.output == Output::Json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&doc).unwrap_or_default()
                )
            } else {
                write!(out, "{}", serde_saphyr::to_string(&doc).unwrap_or_default())
            }
        }
    };
    if written.is_err() {
        return EXIT_FINDINGS;
    }
    EXIT_OK
}

/// The objects and the Events of the cluster; a 403 on Events costs only the Events.
async fn from_cluster(console: &ConsoleArgs) -> Result<(Store, Vec<RecordedEvent>), (i32, String)> {
    let c = super::cluster(console, "changes")
        .await
        .map_err(|m| (EXIT_USAGE, m))?;
    let ns = console.scope.namespace.as_deref();
    let describe = |e: &(dyn std::error::Error + 'static)| {
        format!(
            "meshdeck: the API server {} (context {}): {}",
            c.server,
            c.context,
            crate::io::kube::error::describe(e)
        )
    };
    let store = crate::io::kube::list::store(&c.client, ns)
        .await
        .map_err(|e| (EXIT_FINDINGS, describe(e.as_ref())))?;
    let events = match crate::io::kube::events::recent(&c.client, ns).await {
        Ok(events) => events,
        Err(e) => {
            eprintln!(
                "note: Events not read ({}): only managedFields are told",
                crate::io::kube::error::describe(&e)
            );
            Vec::new()
        }
    };
    Ok((store, events))
}

/// The objects named NS/NAME and, for a ServiceEntry, the entries it selects.
fn scope(store: &Store, ns: &str, name: &str) -> BTreeSet<ObjectKey> {
    let mut keys = BTreeSet::new();
    for kind in Kind::ALL {
        let key = ObjectKey::new(kind, ns, name);
        if store.get(&key).is_some() {
            if kind == Kind::ServiceEntry {
                keys.extend(store.selected_wes(&key).cloned());
            }
            keys.insert(key);
        }
    }
    if keys.is_empty() {
        // Gone now, it may still have Events.
        keys.extend(Kind::ALL.into_iter().map(|k| ObjectKey::new(k, ns, name)));
    }
    keys
}
