//! `meshdeck proxies --xds ADDR`: every proxy's sync status per xDS type, from syncz.

use super::args::Output;
use super::planes::{PlaneArgs, gather};
use super::{EXIT_OK, EXIT_USAGE};
use crate::model::planes::control::ProxySync;
use crate::present::cells::text_table;
use std::collections::BTreeSet;
use std::io::Write;

pub const TYPES: [&str; 4] = ["CDS", "LDS", "EDS", "RDS"];

pub async fn run(args: &PlaneArgs, output: Output, out: &mut dyn Write) -> anyhow::Result<i32> {
    if args.xds.is_empty() && !args.istiod {
        eprintln!(
            "meshdeck proxies needs --xds HOST:PORT (an xDS server that answers istio.io/debug/syncz) or --istiod (found through the cluster)"
        );
        return Ok(EXIT_USAGE);
    }
    let only_xds = PlaneArgs {
        envoy_admin: Vec::new(),
        ..args.clone()
    };
    let g = match gather(&only_xds, BTreeSet::new(), true).await {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    match output {
        Output::Json => writeln!(out, "{}", serde_json::to_string_pretty(&g.syncs)?)?,
        Output::Yaml => write!(out, "{}", serde_saphyr::to_string(&g.syncs)?)?,
        Output::Table => {
            for line in table(&g.syncs) {
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(EXIT_OK)
}

/// `istioctl proxy-status` columns.
pub fn table(syncs: &[ProxySync]) -> Vec<String> {
    let mut header = vec!["NAME".to_string(), "CLUSTER".into(), "LOCALITY".into()];
    header.extend(TYPES.iter().map(|t| t.to_string()));
    header.push("CONTROL PLANE".into());
    let body: Vec<Vec<String>> = syncs
        .iter()
        .map(|p| {
            let mut row = vec![
                p.short_id().to_string(),
                p.cluster.clone(),
                p.locality.clone(),
            ];
            row.extend(TYPES.iter().map(|t| p.status_of(t).to_string()));
            row.push(p.control_plane.clone());
            row
        })
        .collect();
    text_table(&header, &body)
}
