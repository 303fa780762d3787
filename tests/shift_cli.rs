//! `meshdeck shift` as scripts run it: manifest files served by the embedded control plane
//! (watching the same files) to a real Envoy carrying steady load. A console killed mid-shift
//! leaves its plan, which the next one sees and rolls back; a canary answering 503 fails the
//! gate and the weights come back, in the files and in Envoy.

mod common;
use common::mesh::*;
use common::wait::until;
use meshdeck::demo::vm::Behaviour;
use meshdeck::io::envoy::bootstrap::ApiType;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const HOST: &str = "shift.demo.internal";

fn command(args: &[&str]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshdeck"));
    c.args(args).env("XDG_CONFIG_HOME", "/nonexistent").env(
        "XDG_STATE_HOME",
        std::env::temp_dir().join("meshdeck-shift-test-state"),
    );
    c
}

async fn meshdeck(args: &[&str]) -> (i32, String, String) {
    let out = command(args).output().await.expect("meshdeck runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each host's weight as Envoy holds it, by port.
async fn weights(admin: &str) -> BTreeMap<u16, u32> {
    let Ok(c) = meshdeck::io::envoy::admin::clusters(admin).await else {
        return BTreeMap::new();
    };
    c.cluster_statuses
        .iter()
        .filter(|c| c.name == format!("outbound|80||{HOST}"))
        .flat_map(|c| &c.host_statuses)
        .filter_map(|h| {
            let port = h.address.as_ref()?["socket_address"]["port_value"].as_u64()?;
            Some((port as u16, h.weight.unwrap_or(1)))
        })
        .collect()
}

async fn holds(admin: &str, want: &BTreeMap<u16, u32>, what: &str) {
    until(
        what,
        Duration::from_secs(15),
        async || weights(admin).await,
        |w| w == want,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_canary_is_rolled_back_and_a_killed_shift_is_rolled_back_by_the_next_console() {
    let vms = vms(&[("old1", 31), ("old2", 32), ("canary", 33)]).await;
    // The canary starts at 1 in 101: its share is under the first step.
    let text = service_yaml(
        HOST,
        "shift",
        &[
            (&vms[0], 50, "r1/z1"),
            (&vms[1], 50, "r1/z1"),
            (&vms[2], 1, "r1/z1"),
        ],
    );
    let start: BTreeMap<u16, u32> = [
        (vms[0].addr.port(), 50),
        (vms[1].addr.port(), 50),
        (vms[2].addr.port(), 1),
    ]
    .into();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mesh.yaml");
    std::fs::write(&file, &text).unwrap();
    let plan_file = dir.path().join(".meshdeck/shift-demo-shift.json");
    let served = ServedFiles::start(dir.path()).await;
    let xds = served.xds;
    let proxy = Proxy::start("proxy-s", "r1/z1", xds, ApiType::StateOfTheWorld).await;
    holds(
        &proxy.admin,
        &start,
        "the three hosts in Envoy at their weights",
    )
    .await;
    let m = dir.path().to_str().unwrap().to_string();
    let admin = format!("proxy-s={}", proxy.admin);

    // The steps before anything is written; and the gates need an Envoy.
    let (code, out, err) = meshdeck(&[
        "shift",
        "demo/shift",
        "--to",
        "demo/canary",
        "--steps",
        "10,100",
        "--dry-run",
        "-m",
        &m,
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let words: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert!(words.iter().any(|l| l == "10% 1000 4500 4500"), "{out}");
    assert!(
        words.iter().any(|l| l.starts_with("STEP demo/canary ←")),
        "{out}"
    );
    assert!(!plan_file.exists(), "a dry run keeps no plan");
    let (code, _, err) = meshdeck(&["shift", "demo/shift", "--to", "demo/canary", "-m", &m]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--envoy-admin"), "{err}");

    // A console killed while it holds step 1: its plan stays, with the step it had written.
    let mut first = command(&[
        "shift",
        "demo/shift",
        "--to",
        "demo/canary",
        "--steps",
        "25,100",
        "--hold",
        "600s",
        "-m",
        &m,
        "--envoy-admin",
        &admin,
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .kill_on_drop(true)
    .spawn()
    .expect("shift starts");
    let at_step_1 = |w: &BTreeMap<u16, u32>| w.get(&vms[2].addr.port()) == Some(&2500);
    until(
        "step 1 in Envoy",
        Duration::from_secs(20),
        async || weights(&proxy.admin).await,
        at_step_1,
    )
    .await;
    first.kill().await.unwrap();
    let kept = std::fs::read_to_string(&plan_file).expect("the plan is kept beside the manifests");
    assert!(kept.contains("\"step\":0"), "{kept}");

    let (code, _, err) = meshdeck(&[
        "shift",
        "demo/shift",
        "--to",
        "demo/canary",
        "-m",
        &m,
        "--envoy-admin",
        &admin,
    ])
    .await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("already being shifted") && err.contains("at step 1 of 2 (25%)"),
        "{err}"
    );
    let (code, _, err) = meshdeck(&[
        "shift",
        "demo/shift",
        "--resume",
        "-m",
        &m,
        "--envoy-admin",
        &admin,
    ])
    .await;
    assert_eq!(
        code, 1,
        "a plan heard from seconds ago is not taken over: {err}"
    );
    assert!(err.contains("still running"), "{err}");
    let (code, out, err) = meshdeck(&["shift", "demo/shift", "--rollback", "-m", &m]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("taking over a shift of demo/shift"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "{out}");
    assert!(!plan_file.exists(), "{out}");
    holds(&proxy.admin, &start, "the start weights back in Envoy").await;

    // A canary that answers 503 to everything, under ~30 requests a second.
    vms[2].set(Behaviour::Errors);
    let load = Load::start(
        proxy.listen().await,
        HOST,
        3,
        Duration::from_millis(100),
        Duration::from_secs(90),
    );
    let started = Instant::now();
    let (code, out, err) = meshdeck(&[
        "shift",
        "demo/shift",
        "--to",
        "demo/canary",
        "--steps",
        "25,100",
        "--hold",
        "30s",
        "--max-5xx",
        "1%",
        "-m",
        &m,
        "--envoy-admin",
        &admin,
        "--xds",
        &xds.to_string(),
        "--wait",
    ])
    .await;
    eprintln!("{out}");
    eprintln!("the gated shift ended after {:?}", started.elapsed());
    load.stop().await;
    assert_eq!(code, 3, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("step 1 of 2 (25%): demo/canary 1 → 2500"),
        "{out}"
    );
    assert!(
        out.contains("gate failed") && out.contains("rolling back"),
        "{out}"
    );
    assert!(!out.contains("step 2 of 2 (100%):"), "{out}");
    assert!(
        out.contains("the weights are back as they were before the shift"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    assert!(!plan_file.exists());
    // --wait followed the rollback too: Envoy already holds the start weights.
    assert_eq!(weights(&proxy.admin).await, start);

    drop(proxy);
    drop(served);
}
