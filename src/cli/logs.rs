//! `meshdeck logs NS/NAME [-f]`: a WorkloadEntry's sidecar log over ssh, to stdout.

use crate::config::ssh::{SshConfig, destination_for};
use crate::model::object::{Kind, Object, ObjectKey};
use crate::model::store::Store;
use std::io::Write;

pub async fn run(
    store: &Store,
    entry: &str,
    follow: bool,
    cfg: &SshConfig,
    out: &mut dyn Write,
) -> anyhow::Result<i32> {
    let Some((ns, name)) = entry
        .split_once('/')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
    else {
        eprintln!("meshdeck logs: expected NAMESPACE/NAME of a WorkloadEntry, got {entry:?}");
        return Ok(super::EXIT_USAGE);
    };
    let key = ObjectKey::new(Kind::WorkloadEntry, ns, name);
    let Some(Object::WorkloadEntry(we)) = store.get(&key).map(|e| &e.object) else {
        eprintln!("meshdeck logs: no WorkloadEntry {ns}/{name}");
        return Ok(super::EXIT_USAGE);
    };
    let Some(dest) = destination_for(
        cfg,
        &key,
        &we.metadata.annotations,
        we.spec.address.as_deref(),
    ) else {
        eprintln!(
            "meshdeck logs: {ns}/{name} has no host to ssh to (no address; set annotation {})",
            crate::config::ssh::SSH_ANNOTATION
        );
        return Ok(super::EXIT_USAGE);
    };
    let dest = match crate::io::ssh::Destination::parse(&dest) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("meshdeck logs: {ns}/{name}: {e}");
            return Ok(super::EXIT_USAGE);
        }
    };
    let pool = crate::io::ssh::pool();
    let mut lines = match pool.lines(&dest, &cfg.log_command(follow)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("meshdeck logs: {e}");
            return Ok(super::EXIT_FINDINGS);
        }
    };
    loop {
        match lines.next().await {
            Ok(Some(line)) => {
                writeln!(out, "{line}")?;
                if follow {
                    out.flush()?;
                }
            }
            Ok(None) => return Ok(super::EXIT_OK),
            Err(e) => {
                eprintln!("meshdeck logs: {e}");
                return Ok(super::EXIT_FINDINGS);
            }
        }
    }
}
