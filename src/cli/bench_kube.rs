//! `meshdeck bench --kube`: initial sync of N WorkloadEntries from the fake API server (500 per
//! page) to the first full paint, against a plain paginated LIST of the same objects (three
//! rounds: the first is a fresh console, the median is the steady figure); then the rate at
//! which watch events are applied; and how much memory the synced store takes.

use crate::config::keymap::Keymap;
use crate::config::theme::Theme;
use crate::io::kube::{KubeEvent, client, watch};
use crate::model::object::Kind;
use crate::msg::Msg;
use crate::state::{Config, State};
use crate::testing::apiserver::FakeApiServer;
use crate::update;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const ROUNDS: usize = 3;

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn we(i: usize, weight: u32) -> serde_json::Value {
    json!({"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
        "metadata": {"name": format!("vm-{i:06}"), "namespace": format!("ns-{}", i % 10), "labels": {"app": format!("svc-{}", i % 100)}},
        "spec": {"address": format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255), "labels": {"app": format!("svc-{}", i % 100)}, "weight": weight, "locality": format!("r{}/z{}", i % 3, i % 7)}})
}

/// The baseline: a plain paginated LIST into generic objects, as kubectl does.
async fn plain_list(client: &Client) -> anyhow::Result<(Duration, usize)> {
    let ar = watch::api_resource(Kind::WorkloadEntry, "v1");
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let t = Instant::now();
    let mut token: Option<String> = None;
    let mut listed = 0;
    loop {
        let mut lp = ListParams::default().limit(watch::PAGE_SIZE);
        if let Some(tk) = &token {
            lp = lp.continue_token(tk);
        }
        let page = api.list(&lp).await?;
        listed += page.items.len();
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    Ok((t.elapsed(), listed))
}

/// meshdeck: watcher → list read and indexed as it arrives → update → first full frame.
struct SyncRun {
    state: State,
    rx: mpsc::Receiver<Msg>,
    task: tokio::task::JoinHandle<()>,
    received: Duration,
    joined: Duration,
    rows: Duration,
    paint: Duration,
    /// Heap the console holds once the list is joined, and what the screen's rows add.
    heap_store: isize,
    heap_rows: isize,
}

async fn sync(
    client: &Client,
    theme: &Theme,
    term: &mut Terminal<TestBackend>,
) -> anyhow::Result<SyncRun> {
    let mut state = State::new(Config::new("bench", true, Keymap::load(None, None).0));
    update::init(&mut state);
    let heap_start = crate::heap::net_bytes();
    let (tx, mut rx) = mpsc::channel(4096);
    let t = Instant::now();
    let task = tokio::spawn(watch::run(
        client.clone(),
        Kind::WorkloadEntry,
        "v1".into(),
        None,
        crate::io::kube::tagged::KubeTx::new(Default::default(), tx),
    ));
    let mut received = Duration::ZERO;
    loop {
        let Some(msg) = rx.recv().await else {
            anyhow::bail!("the watch ended")
        };
        let synced = matches!(msg, Msg::Kube(_, KubeEvent::Synced { .. }));
        if synced {
            received = t.elapsed();
        }
        update::update(&mut state, msg);
        if synced {
            break;
        }
    }
    let joined = t.elapsed();
    let heap_joined = crate::heap::net_bytes();
    update::update(
        &mut state,
        Msg::Key(ratatui::crossterm::event::KeyEvent::from(
            ratatui::crossterm::event::KeyCode::Char('2'),
        )),
    );
    update::update(&mut state, Msg::Tick);
    let rows = t.elapsed();
    let heap_rows = crate::heap::net_bytes() - heap_joined;
    term.draw(|f| crate::view::render(&state, theme, f))?;
    let paint = t.elapsed();
    Ok(SyncRun {
        state,
        rx,
        task,
        received,
        joined: joined - received,
        rows: rows - joined,
        paint,
        heap_store: heap_joined - heap_start,
        heap_rows,
    })
}

pub async fn run(sizes: &[usize], out: &mut dyn Write) -> anyhow::Result<i32> {
    let theme = Theme::builtin("dark").unwrap_or_default();
    for &n in sizes {
        writeln!(
            out,
            "== {n} WorkloadEntries from the fake API server, 500 per page =="
        )?;
        let fake = FakeApiServer::start().await?;
        for i in 0..n {
            fake.upsert(we(i, 1)).map_err(|e| anyhow::anyhow!(e))?;
        }
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("kubeconfig");
        fake.write_kubeconfig(&path, "admin", None)?;
        let c = client::connect(&client::Target {
            kubeconfig: Some(path),
            context: None,
        })
        .await?;
        let Ok(mut term) = Terminal::new(TestBackend::new(200, 50));
        // Served as the real server writes them: managedFields and kubectl's last-applied.
        let ar = watch::api_resource(Kind::WorkloadEntry, "v1");
        let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), "ns-0", &ar);
        let one = api.get("vm-000000").await?;
        let size = serde_json::to_string(&one)?.len();
        let managed = serde_json::to_string(&one.metadata.managed_fields)?.len();
        let applied = one
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(crate::model::meta::LAST_APPLIED))
            .map_or(0, String::len);
        writeln!(
            out,
            "each object served: {size} B of JSON, of which managedFields {managed} B and last-applied {applied} B (the console keeps neither)"
        )?;

        let mut ratios = Vec::new();
        let mut last = None;
        for round in 1..=ROUNDS {
            let (list_time, listed) = plain_list(&c.client).await?;
            // The previous round's store is dropped before this one is measured.
            drop(last.take());
            let rss_before = rss_mib();
            crate::heap::count();
            let heap_before = crate::heap::net_bytes();
            let s = sync(&c.client, &theme, &mut term).await?;
            let rss_after = rss_mib();
            let kept = (crate::heap::net_bytes() - heap_before) as f64 / 1048576.0;
            let ratio = s.paint.as_secs_f64() / list_time.as_secs_f64();
            ratios.push(ratio);
            writeln!(
                out,
                "round {round}: plain LIST {:>7.1} ms ({listed} objects); first full paint {:>7.1} ms = {ratio:.2}x",
                ms(list_time),
                ms(s.paint),
            )?;
            // Later rounds reuse memory the allocator kept: only the first says what a fresh
            // console needs.
            let mib = |b: isize| b as f64 / 1048576.0;
            let split = format!(
                "store {:.1}, rows {:.1}",
                mib(s.heap_store),
                mib(s.heap_rows)
            );
            let memory = if round == 1 {
                format!(
                    "; the console keeps {kept:.1} MiB of heap ({split}; {:.1} MiB more resident)",
                    rss_after - rss_before
                )
            } else {
                format!("; the console keeps {kept:.1} MiB of heap ({split})")
            };
            writeln!(
                out,
                "         list + read + index {:.1} ms, join {:.1} ms, rows {:.1} ms, draw {:.1} ms{memory}",
                ms(s.received),
                ms(s.joined),
                ms(s.rows),
                ms(s.paint - s.received - s.joined - s.rows),
            )?;
            last = Some(s);
        }
        ratios.sort_by(f64::total_cmp);
        writeln!(
            out,
            "first full paint, median of {ROUNDS}: {:.2}x the plain LIST",
            ratios[ROUNDS / 2]
        )?;
        let Some(mut s) = last else { continue };

        // Events: a burst of modifications, applied as the console applies them.
        let events = n.min(20_000);
        let t = Instant::now();
        for i in 0..events {
            fake.upsert(we(i, 2)).map_err(|e| anyhow::anyhow!(e))?;
        }
        let produced = t.elapsed();
        let t = Instant::now();
        let mut applied = 0;
        let mut last_tick = Instant::now();
        while applied < events {
            let msg = tokio::time::timeout(Duration::from_secs(30), s.rx.recv())
                .await?
                .ok_or_else(|| anyhow::anyhow!("watch ended"))?;
            if matches!(msg, Msg::Kube(_, KubeEvent::Upsert(_))) {
                applied += 1;
            }
            update::update(&mut s.state, msg);
            if last_tick.elapsed() >= Duration::from_millis(33) {
                update::update(&mut s.state, Msg::Tick);
                term.draw(|f| crate::view::render(&s.state, &theme, f))?;
                last_tick = Instant::now();
            }
        }
        update::update(&mut s.state, Msg::Tick);
        let elapsed = t.elapsed() + produced;
        writeln!(
            out,
            "watch events applied          {:>9.0} /s ({events} events, frames at 30 fps in between)",
            events as f64 / elapsed.as_secs_f64()
        )?;
        s.task.abort();
    }
    Ok(0)
}
