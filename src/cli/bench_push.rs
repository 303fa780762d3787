//! `meshdeck bench --push N`: time from a weight edit written to a manifest (the same code path
//! as the console and `meshdeck set`) to the new weight in a real Envoy's /clusters, with the
//! control plane's push and the proxy's ACK in between.

use crate::controlplane::any::ENDPOINT;
use crate::controlplane::registry;
use crate::controlplane::server::{Ads, serve};
use crate::controlplane::status::StatusBoard;
use crate::demo::vm;
use crate::io::envoy::admin;
use crate::io::envoy::bootstrap::{ApiType, ProxySpec};
use crate::io::envoy::process::EnvoyProcess;
use crate::io::source::Source;
use crate::io::source::files::FileSource;
use crate::model::locality::Locality;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub async fn run(edits: usize, out: &mut dyn Write) -> anyhow::Result<i32> {
    let envoy_bin = crate::io::envoy::find::envoy_binary().map_err(|e| anyhow::anyhow!(e))?;
    let dir = tempfile::Builder::new()
        .prefix("meshdeck-bench-")
        .tempdir()?;
    let a = vm::start("a", SocketAddr::from(([127, 0, 0, 51], 0))).await?;
    let b = vm::start("b", SocketAddr::from(([127, 0, 0, 52], a.addr.port()))).await?;
    let manifest = dir.path().join("bench.yaml");
    std::fs::write(
        &manifest,
        format!(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: bench, namespace: b}}\nspec:\n  hosts: [bench.internal]\n  resolution: STATIC\n  ports: [{{number: 80, name: http, targetPort: {p}}}]\n  workloadSelector: {{labels: {{app: bench}}}}\n---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {{name: a, namespace: b}}\nspec:\n  address: {}\n  labels: {{app: bench}}\n  weight: 1\n---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {{name: b, namespace: b}}\nspec:\n  address: {}\n  labels: {{app: bench}}\n  weight: 1\n",
            a.addr.ip(),
            b.addr.ip(),
            p = a.addr.port()
        ),
    )?;
    let (rx, _watcher) = registry::watch_files(vec![dir.path().to_path_buf()])?;
    let status = Arc::new(StatusBoard::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let xds = listener.local_addr()?;
    let server = tokio::spawn(serve(
        listener,
        Ads::new(rx, status.clone()),
        std::future::pending(),
    ));
    // Port 0: the kernel picks, Envoy says what it got.
    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
    let spec = ProxySpec {
        id: "bench".into(),
        locality: Locality::parse("r1/z1"),
        xds,
        admin: any_port,
        listen: any_port,
        api: ApiType::StateOfTheWorld,
        metrics: None,
        namespace: None,
        labels: Default::default(),
    };
    let mut envoy = EnvoyProcess::start(&envoy_bin, spec, dir.path())?;
    let admin_addr = envoy.admin_bound().await?;
    let base = format!("http://{admin_addr}");
    let cluster = "outbound|80||bench.internal";
    let weight_of_a = |c: &admin::Clusters| {
        c.cluster_statuses
            .iter()
            .find(|s| s.name == cluster)
            .and_then(|s| {
                s.host_statuses
                    .iter()
                    .find(|h| {
                        h.socket()
                            .is_some_and(|(ip, _)| ip == a.addr.ip().to_string())
                    })
                    .and_then(|h| h.weight)
            })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while admin::clusters(&base)
        .await
        .ok()
        .as_ref()
        .and_then(weight_of_a)
        != Some(1)
    {
        anyhow::ensure!(
            Instant::now() < deadline && envoy.is_running(),
            "Envoy did not sync; log: {}",
            envoy.log.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut source = FileSource::new(vec![dir.path().to_path_buf()], false);
    let (mut total, mut to_push, mut to_ack) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..edits {
        let w = 2 + i as u32;
        let (files, _) = crate::io::manifests::load::load_all(&[dir.path().to_path_buf()]);
        let store = crate::io::manifests::load::into_store(files);
        let edit = crate::cli::set::resolve(
            &store,
            "b/a",
            &crate::cli::set::Field::Weight,
            &w.to_string(),
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        let start = Instant::now();
        let wall = SystemTime::now();
        source
            .apply(vec![edit])
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if admin::clusters(&base)
                .await
                .ok()
                .as_ref()
                .and_then(weight_of_a)
                == Some(w)
            {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "edit {i}: weight {w} not in Envoy after 10 s"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        total.push(start.elapsed().as_secs_f64() * 1e3);
        if let Some(t) = status
            .proxies()
            .first()
            .and_then(|p| p.types.get(ENDPOINT).cloned())
        {
            let ms = |x: Option<SystemTime>| {
                x.and_then(|x| x.duration_since(wall).ok())
                    .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
            };
            to_push.push(ms(t.sent_at));
            to_ack.push(ms(t.acked_at));
        }
    }
    envoy.kill().await;
    server.abort();
    for v in [&mut total, &mut to_push, &mut to_ack] {
        v.sort_by(|x, y| x.total_cmp(y));
    }
    writeln!(
        out,
        "== weight edit → Envoy /clusters, {edits} edits (file write, watch, translate, push, ACK, admin poll) =="
    )?;
    writeln!(
        out,
        "edit → EDS pushed        p50 {:>7.1} ms  p95 {:>7.1} ms",
        pct(&to_push, 0.5),
        pct(&to_push, 0.95)
    )?;
    writeln!(
        out,
        "edit → EDS ACKed         p50 {:>7.1} ms  p95 {:>7.1} ms",
        pct(&to_ack, 0.5),
        pct(&to_ack, 0.95)
    )?;
    writeln!(
        out,
        "edit → in /clusters      p50 {:>7.1} ms  p95 {:>7.1} ms  max {:>7.1} ms",
        pct(&total, 0.5),
        pct(&total, 0.95),
        total[total.len() - 1]
    )?;
    Ok(0)
}
