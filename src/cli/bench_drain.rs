//! `meshdeck bench --drain N`: on the live demo (real Envoys, 30 requests a second per proxy),
//! N rounds of: drain test-v1 (time until no Envoy holds it, and until the VM served its last
//! request), restore it, and a weight edit there and back; each followed by the console's
//! verify loop until its verdict. The reference is the fixed-sample rule the loop used before
//! the sequential test, judged on the same readings.

use super::follow::Follower;
use super::planes::PlaneArgs;
use crate::demo::run::Demo;
use crate::io::envoy::poll::{PollTarget, poll_clusters};
use crate::io::source::files::FileSource;
use crate::io::source::{Change, FieldEdit, Source, WriteMode};
use crate::model::endpoint::EndpointSource;
use crate::model::object::{Kind, ObjectKey};
use crate::model::planes::verify::{Target, Wanted, targets};
use crate::model::store::Store;
use crate::msg::data::DataEvent;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const ENTRY: &str = "test-v1";
const WITHIN: Duration = Duration::from_secs(60);

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn store(demo: &Demo) -> Store {
    crate::cli::get::load_files(std::slice::from_ref(&demo.dir))
}

fn source() -> EndpointSource {
    EndpointSource::WorkloadEntry {
        namespace: "demo".into(),
        name: ENTRY.into(),
        cluster: Default::default(),
    }
}

fn edit(store: &Store, change: Change) -> FieldEdit {
    let key = ObjectKey::new(Kind::WorkloadEntry, "demo", ENTRY);
    let entry = store.get(&key);
    FieldEdit {
        target: source(),
        change,
        revision: entry.and_then(|e| e.origin.as_ref().map(|o| o.revision.clone())),
        origin: entry.and_then(|e| e.origin.clone()),
        mode: WriteMode::Precondition,
    }
}

/// Whether any of the demo's Envoys holds one of `targets`' hosts.
async fn held(admins: &[PollTarget], targets: &[Target]) -> bool {
    for a in admins {
        if let DataEvent::Clusters { clusters, .. } = poll_clusters(a).await
            && targets.iter().any(|t| {
                clusters
                    .get(&t.cluster)
                    .is_some_and(|h| h.contains_key(&t.host))
            })
        {
            return true;
        }
    }
    false
}

struct Figures {
    gone: Vec<f64>,
    last_request: Vec<f64>,
    drain_verdict: Vec<f64>,
    restore: Vec<f64>,
    restore_reference: Vec<f64>,
    weight: Vec<f64>,
    weight_reference: Vec<f64>,
}

/// Applies `e` and follows it with the verify loop (and the reference rule); seconds each.
async fn followed(
    planes: &PlaneArgs,
    store: &Store,
    e: FieldEdit,
    wanted: Wanted,
) -> anyhow::Result<(f64, Option<f64>)> {
    let t = targets(store, &[wanted]);
    let follower = Follower::start(planes, &e.describe(), t)
        .await
        .map_err(|e| anyhow::anyhow!(e))?
        .with_reference();
    let dir = e
        .origin
        .as_ref()
        .and_then(|o| o.path.parent().map(|p| p.to_path_buf()));
    FileSource::new(dir.into_iter().collect(), false)
        .apply(vec![e])
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let f = follower
        .wait(WITHIN, &mut std::io::sink())
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    eprintln!("  {}", f.summary);
    let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
    Ok((secs(f.took).unwrap_or(f64::NAN), secs(f.reference)))
}

async fn round(
    demo: &Demo,
    planes: &PlaneArgs,
    admins: &[PollTarget],
    fig: &mut Figures,
) -> anyhow::Result<()> {
    let vm = demo
        .vms
        .iter()
        .find(|v| v.name == ENTRY)
        .ok_or_else(|| anyhow::anyhow!("the demo has no {ENTRY}"))?;
    // Drain: watched directly (Envoys every few ms, the VM's own counter) and by the loop.
    let s = store(demo);
    let key = ObjectKey::new(Kind::WorkloadEntry, "demo", ENTRY);
    let plan = crate::model::drain::plan(&s, &key, "bench", "2026-12-02T00:00:00Z")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let wanted = |present: bool| Wanted {
        source: source(),
        weight: None,
        locality: None,
        present: Some(present),
    };
    let t = targets(&s, &[wanted(false)]);
    let follower = Follower::start(planes, "drain", t.clone())
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let e = edit(
        &s,
        Change::Drain {
            record: plan.record,
        },
    );
    let started = Instant::now();
    FileSource::new(vec![demo.dir.clone()], false)
        .apply(vec![e])
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let watch = async {
        let mut served = vm.served.load(Ordering::Relaxed);
        let mut last = started;
        let mut gone = None;
        while started.elapsed() < WITHIN {
            let now = vm.served.load(Ordering::Relaxed);
            if now != served {
                served = now;
                last = Instant::now();
            }
            if gone.is_none() && !held(admins, &t).await {
                gone = Some(started.elapsed());
            }
            // Requests in flight when Envoy let go still land: watch a while longer.
            if gone.is_some_and(|g| started.elapsed() > g + Duration::from_secs(2)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        (gone, last.duration_since(started))
    };
    let mut sink = std::io::sink();
    let (verdict, (gone, last)) = tokio::join!(follower.wait(WITHIN, &mut sink), watch);
    let gone =
        gone.ok_or_else(|| anyhow::anyhow!("{ENTRY} was still in an Envoy after {WITHIN:?}"))?;
    eprintln!("  drained: gone after {gone:?}, last request {last:?}");
    fig.gone.push(gone.as_secs_f64());
    fig.last_request.push(last.as_secs_f64());
    if let Ok(v) = verdict
        && let Some(d) = v.took
    {
        fig.drain_verdict.push(d.as_secs_f64());
    }
    // Restore, then the weight there and back, each judged by both rules.
    let s = store(demo);
    let record = crate::model::drain::restore_plan(&s, &key).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (took, reference) = followed(
        planes,
        &s,
        edit(&s, Change::Restore { record }),
        wanted(true),
    )
    .await?;
    fig.restore.push(took);
    fig.restore_reference.extend(reference);
    for to in [50, 20] {
        let s = store(demo);
        let e = crate::cli::set::resolve(
            &s,
            &format!("demo/{ENTRY}"),
            &crate::cli::set::Field::Weight,
            &to.to_string(),
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        let w = Wanted {
            source: source(),
            weight: Some(to),
            locality: None,
            present: None,
        };
        let (took, reference) = followed(planes, &s, e, w).await?;
        fig.weight.push(took);
        fig.weight_reference.extend(reference);
    }
    Ok(())
}

pub async fn run(runs: usize, rate: u64, out: &mut dyn Write) -> anyhow::Result<i32> {
    let envoy = crate::io::envoy::find::envoy_binary().map_err(|e| anyhow::anyhow!(e))?;
    let demo = Demo::start_at(&envoy, false, rate, |_| {}).await?;
    let admins = demo.admin_targets().await;
    let planes = PlaneArgs {
        xds: vec![demo.xds.to_string()],
        envoy_admin: admins
            .iter()
            .map(|t| format!("{}={}", t.name, t.admin))
            .collect(),
        ..Default::default()
    };
    let mut fig = Figures {
        gone: Vec::new(),
        last_request: Vec::new(),
        drain_verdict: Vec::new(),
        restore: Vec::new(),
        restore_reference: Vec::new(),
        weight: Vec::new(),
        weight_reference: Vec::new(),
    };
    for i in 0..runs {
        round(&demo, &planes, &admins, &mut fig)
            .await
            .map_err(|e| e.context(format!("round {}", i + 1)))?;
    }
    writeln!(
        out,
        "== drain, restore and weight edits on the demo ({runs} rounds, 2 Envoys, {rate} req/s through each: {} req/s of it to the service judged; planes read every {} ms) ==",
        rate / 2,
        crate::model::planes::verify::READ_EVERY.as_millis()
    )?;
    let line = |out: &mut dyn Write, what: &str, v: &mut Vec<f64>| -> std::io::Result<()> {
        writeln!(
            out,
            "{what:<46} p50 {:>6.2} s  p95 {:>6.2} s  ({} of {runs})",
            pct(v, 0.5),
            pct(v, 0.95),
            v.len()
        )
    };
    line(out, "drain → no Envoy holds it", &mut fig.gone)?;
    line(out, "drain → the VM's last request", &mut fig.last_request)?;
    line(out, "drain → the console's verdict", &mut fig.drain_verdict)?;
    line(
        out,
        "restore → traffic verdict (sequential test)",
        &mut fig.restore,
    )?;
    line(
        out,
        "  reference: fixed sample (100 rq, ±7%)",
        &mut fig.restore_reference,
    )?;
    writeln!(out, "(weight edits: {} per round)", 2)?;
    line(
        out,
        "weight edit → traffic verdict (sequential)",
        &mut fig.weight,
    )?;
    line(
        out,
        "  reference: fixed sample (100 rq, ±7%)",
        &mut fig.weight_reference,
    )?;
    Ok(0)
}
