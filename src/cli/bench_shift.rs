//! `meshdeck bench --shift N`: on the live demo (real Envoys, 30 requests a second per proxy,
//! half of them to the test service), N gated shifts of `demo/test` to test-v1 while test-v1
//! answers 503 to requests (its health check still passes, so only the 5xx gate can tell): how
//! long after the step is in place the gate decides to roll back, and on how many of the
//! canary's requests. The canary starts failing once step 1 is in place. The reference is the fixed-sample rule a
//! gate without the sequential test would need: 100 requests, at the canary's observed rate.

use super::args::{ConsoleArgs, ShiftArgs};
use crate::demo::run::Demo;
use crate::demo::vm::Behaviour;
use std::io::Write;
use std::time::{Duration, Instant};

const CANARY: &str = "test-v1";
/// Requests a fixed-sample gate would wait for before judging.
const FIXED_SAMPLE: f64 = 100.0;

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Waits until no Envoy flags the canary (its ejection over), at most two minutes.
async fn trusted_again(
    admins: &[crate::io::envoy::poll::PollTarget],
    port: u16,
) -> anyhow::Result<()> {
    let until = Instant::now() + Duration::from_secs(120);
    while Instant::now() < until {
        let mut flagged = false;
        for a in admins {
            if let crate::msg::data::DataEvent::Clusters { clusters, .. } =
                crate::io::envoy::poll::poll_clusters(a).await
            {
                flagged |= clusters
                    .values()
                    .flat_map(|hosts| hosts.iter())
                    .any(|(h, s)| h.port == u32::from(port) && !s.flags.is_empty());
            }
        }
        if !flagged {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    anyhow::bail!("{CANARY} was still flagged by an Envoy after two minutes")
}

pub async fn run(runs: usize, out: &mut dyn Write) -> anyhow::Result<i32> {
    let envoy = crate::io::envoy::find::envoy_binary().map_err(|e| anyhow::anyhow!(e))?;
    let demo = Demo::start(&envoy, false, |_| {}).await?;
    let admins = demo.admin_targets().await;
    let canary = demo
        .vms
        .iter()
        .find(|v| v.name == CANARY)
        .ok_or_else(|| anyhow::anyhow!("the demo has no {CANARY}"))?;
    let mut console = ConsoleArgs {
        manifests: vec![demo.dir.clone()],
        ..Default::default()
    };
    console.planes.envoy_admin = admins
        .iter()
        .map(|t| format!("{}={}", t.name, t.admin))
        .collect();
    let (mut after, mut requests, mut reference) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs {
        let args = ShiftArgs {
            service: "demo/test".into(),
            to: vec![format!("demo/{CANARY}")],
            steps: "50,100".into(),
            hold: Duration::from_secs(60),
            max_5xx: "1%".into(),
            max_p99: None,
            wait: false,
            timeout: Duration::from_secs(60),
            dry_run: false,
            resume: false,
            rollback: false,
        };
        let mut said = Vec::new();
        // The canary starts failing once step 1 is in place (the plan says so).
        let plan_file = demo.dir.join(".meshdeck/shift-demo-test.json");
        let fail_at_step_1 = async {
            let until = Instant::now() + Duration::from_secs(30);
            while Instant::now() < until {
                let step = std::fs::read_to_string(&plan_file).unwrap_or_default();
                if step.contains("\"step\":0") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            canary.set(Behaviour::RequestErrors);
            Instant::now()
        };
        let ((code, decision), failing_since) = tokio::join!(
            super::shift::run_deciding(&console, args, &mut said),
            fail_at_step_1
        );
        canary.set(Behaviour::Healthy);
        let said = String::from_utf8_lossy(&said);
        let Some(d) = decision.filter(|_| code == 3) else {
            anyhow::bail!("round {}: exit {code}, no gate decision:\n{said}", i + 1);
        };
        let why = said
            .lines()
            .find(|l| l.contains("rolling back ("))
            .unwrap_or_default();
        let secs = d.at.saturating_duration_since(failing_since).as_secs_f64();
        eprintln!(
            "  round {}: rolled back {secs:.2}s after the canary began to fail, on {} requests: {why}",
            i + 1,
            d.requests
        );
        after.push(secs);
        requests.push(d.requests as f64);
        if d.requests > 0 {
            reference.push(FIXED_SAMPLE * secs / d.requests as f64);
        }
        // Envoy's outlier detection lets the canary back before the next round.
        trusted_again(&admins, canary.addr.port()).await?;
    }
    writeln!(
        out,
        "== a gated shift to a canary answering 503 to requests, health checks passing ({runs} rounds, {} req/s per proxy, half to the test service, 2 Envoys) ==",
        crate::demo::run::RATE_PER_PROXY
    )?;
    writeln!(
        out,
        "{:<46} p50 {:>6.2} s  p95 {:>6.2} s",
        "canary fails → gate decides (sequential)",
        pct(&mut after, 0.5),
        pct(&mut after, 0.95)
    )?;
    writeln!(
        out,
        "{:<46} p50 {:>6.0}    p95 {:>6.0}",
        "  the canary's requests it took",
        pct(&mut requests, 0.5),
        pct(&mut requests, 0.95)
    )?;
    writeln!(
        out,
        "{:<46} p50 {:>6.2} s  (100 rq at the canary's rate)",
        "  reference: fixed sample",
        pct(&mut reference, 0.5)
    )?;
    Ok(0)
}
