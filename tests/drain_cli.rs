//! `meshdeck drain` and `meshdeck restore` as scripts run them: on manifest files served by the
//! embedded control plane (watching the same files) to a real Envoy, with `--wait` following
//! each change until Envoy agrees, and the refusals with their exit codes.

mod common;
use common::mesh::*;
use common::wait::until;
use meshdeck::io::envoy::bootstrap::ApiType;
use std::time::{Duration, Instant};

const HOST: &str = "drain.demo.internal";

async fn meshdeck(args: Vec<String>) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshdeck"))
        .args(&args)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .await
        .expect("meshdeck runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn hosts(admin: &str) -> usize {
    let c = meshdeck::io::envoy::admin::clusters(admin)
        .await
        .expect("clusters");
    c.cluster_statuses
        .iter()
        .find(|c| c.name == format!("outbound|80||{HOST}"))
        .map_or(0, |c| c.host_statuses.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_and_restore_wait_until_envoy_agrees() {
    let vms = vms(&[("d1", 26), ("d2", 27)]).await;
    let text = service_yaml(
        HOST,
        "drain",
        &[(&vms[0], 1, "r1/z1"), (&vms[1], 1, "r1/z1")],
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mesh.yaml");
    std::fs::write(&file, &text).unwrap();
    let served = ServedFiles::start(dir.path()).await;
    let xds = served.xds;
    let proxy = Proxy::start("proxy-w", "r1/z1", xds, ApiType::StateOfTheWorld).await;
    until(
        "both hosts in Envoy",
        Duration::from_secs(15),
        async || hosts(&proxy.admin).await,
        |n| *n == 2,
    )
    .await;

    let base = |verb: &str, entry: &str| -> Vec<String> {
        [
            verb,
            entry,
            "-m",
            dir.path().to_str().unwrap(),
            "--xds",
            &xds.to_string(),
            "--envoy-admin",
            &format!("proxy-w={}", proxy.admin),
            "--timeout",
            "30s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let mut drain = base("drain", "demo/d1");
    drain.push("--wait".into());
    let started = Instant::now();
    let (code, out, err) = meshdeck(drain).await;
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("drained we demo/d1: out of EDS"), "{out}");
    assert!(
        out.contains("✓ out of rotation: no Envoy holds it"),
        "{out}"
    );
    assert_eq!(
        hosts(&proxy.admin).await,
        1,
        "it returned only once Envoy agreed"
    );
    eprintln!("drain --wait took {:?}", started.elapsed());

    // The other one is now the last healthy endpoint: refused without --force, nothing written.
    let drained_text = std::fs::read_to_string(&file).unwrap();
    let (code, _, err) = meshdeck(base("drain", "demo/d2")).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("last healthy endpoint") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), drained_text);
    let (code, _, err) = meshdeck(base("restore", "demo/d2")).await;
    assert_eq!(code, 1);
    assert!(err.contains("not drained by meshdeck"), "{err}");

    // Traffic while it comes back: the restore is judged on it.
    let load = Load::start(
        proxy.listen().await,
        HOST,
        20,
        Duration::ZERO,
        Duration::from_secs(60),
    );
    let mut restore = base("restore", "demo/d1");
    restore.push("--wait".into());
    let started = Instant::now();
    let (code, out, err) = meshdeck(restore).await;
    eprintln!("restore --wait took {:?}", started.elapsed());
    load.stop().await;
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("restored we demo/d1"), "{out}");
    assert!(out.contains("✓ traffic moved"), "{out}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    assert_eq!(hosts(&proxy.admin).await, 2);

    let (code, _, err) = meshdeck(vec![
        "drain".into(),
        "demo/d1".into(),
        "--wait".into(),
        "-m".into(),
        dir.path().display().to_string(),
    ])
    .await;
    assert_eq!(code, 2, "--wait without planes is a usage error: {err}");
    assert!(err.contains("give --xds"), "{err}");
    drop(proxy);
    drop(served);
}
