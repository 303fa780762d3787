//! End to end against a cluster: the real binary in a pseudo-terminal, connected through a
//! kubeconfig to the in-process fake API server, sees an object change on screen.

mod common;
use common::pty::Pty;
use meshdeck::testing::apiserver::FakeApiServer;

#[test]
fn the_console_follows_the_cluster_live() {
    let rt = runtime();
    let fake = rt.block_on(FakeApiServer::start()).unwrap();
    with_payments(&fake);
    for ns in ["shop", "ns9"] {
        fake.upsert(
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig, "admin", None).unwrap();
    let record = dir.path().join("flight").join("timeline.jsonl");
    let mut pty = console_in(
        dir.path(),
        &["-n", "shop", "--record", record.to_str().unwrap()],
    );
    pty.wait_for("ServiceEntries [1]");
    assert!(!pty.contents().contains("READ-ONLY"));
    pty.keys("2");
    pty.wait_for("WorkloadEntries [3]");
    pty.wait_for("ctx fake: watching 6/6");
    // Someone changes a weight with kubectl: the screen follows without a key press.
    let mut vm2 = fake
        .object("workloadentries", "shop", "payments-vm-2")
        .unwrap();
    vm2["spec"]["weight"] = serde_json::json!(44);
    fake.upsert(vm2).unwrap();
    pty.wait_for(" 44 ");
    fake.delete("workloadentries", "shop", "payments-vm-3");
    pty.wait_for("WorkloadEntries [2]");
    // Edit a weight: kubectl owns the field, so the first apply is refused with its name; a
    // second enter takes it over; the value is pending until the watch brings it back.
    pty.keys("gge");
    pty.wait_for("edit we shop/payments-vm-1");
    pty.send("\x7f");
    pty.send("\x7f");
    pty.keys("33");
    pty.send("\r");
    pty.wait_for("apply these changes?");
    pty.send("\r");
    pty.wait_for("owned by field manager");
    assert!(
        pty.contents().contains("kubectl-client-side-apply"),
        "{}",
        pty.contents()
    );
    pty.send("\r");
    pty.wait_for("in the cluster: we shop/payments-vm-1 weight 70");
    pty.wait_for(" 33 ");
    let stored = fake
        .object("workloadentries", "shop", "payments-vm-1")
        .unwrap()["spec"]["weight"]
        .clone();
    assert_eq!(stored, 33);
    // The timeline has all of it: kubectl's change with both values, the deletion, and the
    // console's own edit under the user's name.
    pty.keys("8");
    pty.wait_for("Timeline [");
    pty.wait_for("70 → 33");
    let shown = pty.contents();
    for told in ["20 → 44", "deleted", "payments-vm-3"] {
        assert!(shown.contains(told), "{told}: {shown}");
    }
    pty.keys("2");
    pty.wait_for("WorkloadEntries [2]");
    // Switch context without a restart: everything is resynced from the new one.
    pty.keys(":ctx other");
    pty.send("\r");
    pty.wait_for("switched to context other");
    pty.wait_for("WorkloadEntries [2]");
    // Scoped with -n: `:ns` moves the watchers to the other namespace, and back.
    pty.keys(":ns ns9");
    pty.send("\r");
    pty.wait_for("watching namespace ns9");
    pty.wait_for("WorkloadEntries [0]");
    pty.keys(":ns shop");
    pty.send("\r");
    pty.wait_for("WorkloadEntries [2]");
    pty.keys(":ctx nope");
    pty.send("\r");
    pty.wait_for("cannot switch to context nope");
    pty.keys("q");
    assert!(pty.wait_exit().success());
    // The flight recorder kept every change as a JSON line: kubectl's and the console's.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let has = |field: &str, old: &str, new: &str, origin: &str| {
        lines.iter().any(|c| {
            c["field"] == field && c["old"] == old && c["new"] == new && c["origin"] == origin
        })
    };
    assert!(has("spec.weight", "20", "44", "watch"), "{lines:?}");
    assert!(has("weight", "70", "33", "console"), "{lines:?}");
    assert!(lines.iter().any(|c| c["field"] == "deleted"), "{lines:?}");
    // It holds the objects too: opened again offline, the registry is as it was at the end,
    // and at the start, and in between.
    let log = dir.path().join("replay.log");
    let mut replay = Pty::start_env(
        &[
            "replay",
            record.to_str().unwrap(),
            "--log-file",
            log.to_str().unwrap(),
        ],
        &[("HOME", dir.path().to_str().unwrap())],
    );
    replay.wait_for("replay ");
    replay.keys("2");
    replay.wait_for("WorkloadEntries [2]");
    replay.wait_for(" 33 ");
    replay.keys(":at start");
    replay.send("\r");
    replay.wait_for("WorkloadEntries [3]");
    replay.wait_for(" 70 ");
    assert!(replay.contents().contains(" 20 "), "{}", replay.contents());
    assert!(!replay.contents().contains(" 44 "), "{}", replay.contents());
    // Moment by moment on, kubectl's weight comes before the console's. The kinds' first
    // lists may be recorded as moments of their own, so it is not always the very next one.
    let position = |screen: &str| {
        let (_, rest) = screen.split_once(" UTC (")?;
        let (i, _) = rest.split_once('/')?;
        i.parse::<usize>().ok()
    };
    let mut at = position(&replay.contents()).expect("the title says where the replay is");
    for _ in 0..20 {
        if replay.contents().contains(" 44 ") {
            break;
        }
        assert!(!replay.contents().contains(" 33 "), "{}", replay.contents());
        replay.keys("]");
        replay.wait_until("the next moment", |s| position(s).is_some_and(|i| i > at));
        at = position(&replay.contents()).unwrap();
    }
    replay.wait_for(" 44 ");
    replay.keys("e");
    replay.wait_for("read-only: this is a replay");
    replay.keys("q");
    assert!(replay.wait_exit().success());
}

/// The console on the kubeconfig in `dir` (HOME and the log there too), with `extra` flags.
fn console_in(dir: &std::path::Path, extra: &[&str]) -> Pty {
    console_sized(dir, extra, 24, 80)
}

fn console_sized(dir: &std::path::Path, extra: &[&str], rows: u16, cols: u16) -> Pty {
    let kubeconfig = dir.join("kubeconfig");
    let log = dir.join("meshdeck.log");
    let mut args = vec![
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--log-file",
        log.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Pty::start_sized(&args, &[("HOME", dir.to_str().unwrap())], rows, cols)
}

/// The example's payments service, as kubectl would have applied it.
fn with_payments(fake: &FakeApiServer) {
    let yaml = common::read(std::path::Path::new("examples/registry/payments.yaml"));
    fake.apply_yaml(&yaml).unwrap();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A kubeconfig for an API server that was there and is stopped now, and its address.
fn stopped_server(rt: &tokio::runtime::Runtime, dir: &std::path::Path) -> std::net::SocketAddr {
    let fake = rt.block_on(FakeApiServer::start()).unwrap();
    fake.write_kubeconfig(&dir.join("kubeconfig"), "admin", None)
        .unwrap();
    let addr = fake.addr;
    drop(fake);
    // The port is closed once the accept loop is gone: wait for a refused connection.
    let accepts = || std::net::TcpStream::connect(addr).is_ok();
    let ten = std::time::Duration::from_secs(10);
    common::wait::until_blocking("the stopped server refuses", ten, accepts, |a| !a);
    addr
}

#[test]
fn the_console_started_before_the_cluster_shows_it_down_and_fills_in() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let addr = stopped_server(&rt, dir.path());
    // istiod cannot be found now either: the console opens anyway and says so.
    let mut pty = console_in(dir.path(), &["--istiod"]);
    pty.wait_for(&format!(
        "ctx fake: connection refused at http://{addr}; retrying"
    ));
    let fake = rt.block_on(FakeApiServer::start_on(addr)).unwrap();
    with_payments(&fake);
    pty.wait_for_within("ServiceEntries [1]", std::time::Duration::from_secs(30));
    pty.wait_for("the control plane is not watched: listing pods app=istiod in istio-system");
    pty.keys("2");
    pty.wait_for("WorkloadEntries [3]");
    pty.wait_for("ctx fake: watching");
    pty.keys("q");
    assert!(pty.wait_exit().success());
}

#[test]
fn a_headless_get_against_a_stopped_cluster_writes_no_terminal_escape() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let addr = stopped_server(&rt, dir.path());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_meshdeck"))
        .args(["get", "we", "-A", "-o", "json", "--kubeconfig"])
        .arg(dir.path().join("kubeconfig"))
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains('\x1b'), "{err:?}");
    assert_eq!(
        err.trim(),
        format!("meshdeck: the API server http://{addr} (context fake): connection refused")
    );
}

/// Installed as `kubectl-meshdeck`, kubectl runs it with kubectl's own flags: the same binary
/// under that name takes --kubeconfig, --context, -n and -A, and its help says `kubectl meshdeck`.
#[test]
fn as_a_kubectl_plugin_it_takes_kubectls_flags() {
    let rt = runtime();
    let fake = rt.block_on(FakeApiServer::start()).unwrap();
    with_payments(&fake);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig, "admin", None).unwrap();
    let plugin = dir.path().join("kubectl-meshdeck");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_meshdeck"), &plugin).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&plugin)
            .args(args)
            .env("HOME", dir.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let k = kubeconfig.to_str().unwrap();
    let (code, out) = run(&[
        "get",
        "we",
        "--kubeconfig",
        k,
        "--context",
        "fake",
        "-n",
        "shop",
        "-o",
        "json",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3, "{v}");
    let (code, out) = run(&["get", "se", "-A", "--kubeconfig", k]);
    assert_eq!(code, Some(0));
    assert!(out.contains("payments"), "{out}");
    let (_, help) = run(&["--help"]);
    assert!(help.contains("Usage: kubectl meshdeck"), "{help}");
}

/// `meshdeck changes` from what the cluster keeps: who created the objects (managedFields),
/// meshdeck's own edit from its Event (user and both values), as JSON and as a table.
#[test]
fn changes_tells_who_changed_what_from_managed_fields_and_events() {
    let rt = runtime();
    let fake = rt.block_on(FakeApiServer::start()).unwrap();
    with_payments(&fake);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig, "alice", None).unwrap();
    let k = kubeconfig.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_meshdeck"))
            .args(args)
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, out, err) = run(&[
        "set",
        "weight",
        "shop/payments-vm-1",
        "33",
        "--force",
        "--kubeconfig",
        k,
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    // Another component's Event on an Istio object is told as it came.
    fake.add_event(serde_json::json!({
        "metadata": {"name": "vm2.1", "namespace": "shop",
                     "creationTimestamp": humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()},
        "involvedObject": {"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
                           "namespace": "shop", "name": "payments-vm-2"},
        "reason": "ProbeFailed", "message": "readiness probe failed: 503",
        "reportingComponent": "istio-agent",
    }));
    // And one on a Pod is not the timeline's.
    fake.add_event(serde_json::json!({
        "metadata": {"name": "pod.1", "namespace": "shop"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": "shop", "name": "x"},
        "reason": "Pulled", "message": "image pulled",
    }));
    let (code, out, err) = run(&["changes", "-n", "shop", "-o", "json", "--kubeconfig", k]);
    assert_eq!(code, Some(0), "{err}");
    let changes: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let edit = changes
        .iter()
        .find(|c| c["kind"] == "edit")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(edit["object"]["name"], "payments-vm-1");
    assert_eq!(
        (&edit["old"], &edit["new"], &edit["who"]),
        (
            &serde_json::json!("70"),
            &serde_json::json!("33"),
            &serde_json::json!("alice")
        )
    );
    let created: Vec<_> = changes.iter().filter(|c| c["field"] == "created").collect();
    assert_eq!(
        created.len(),
        5,
        "the ServiceEntry, its DestinationRule, three entries: {out}"
    );
    assert!(
        created
            .iter()
            .all(|c| c["who"] == "kubectl-client-side-apply"),
        "{out}"
    );
    let probe = changes
        .iter()
        .find(|c| c["field"] == "ProbeFailed")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(probe["who"], "istio-agent");
    assert!(probe["old"].is_null(), "nobody saw a value before");
    assert!(!out.contains("image pulled"), "{out}");
    // One entry, as a table; a kind that does not exist is a usage error.
    let (code, out, _) = run(&[
        "changes",
        "shop/payments-vm-1",
        "--kind",
        "edit",
        "--kubeconfig",
        k,
    ]);
    assert_eq!(code, Some(0));
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("TIME (UTC)"), "{out}");
    assert!(
        lines[1].contains("70 → 33") && lines[1].contains("alice"),
        "{out}"
    );
    let (code, _, err) = run(&["changes", "--kind", "gossip", "--kubeconfig", k]);
    assert_eq!(code, Some(2));
    assert!(err.contains("health"), "{err}");
    // Files keep no history, and it is said.
    let (code, out, err) = run(&["changes", "--manifests", "examples/registry"]);
    assert_eq!(code, Some(0));
    assert!(err.contains("keep no history"), "{err}");
    assert!(out.starts_with("no change since"), "{out}");
}

/// A kubeconfig with a context per server: `east` and `west`.
fn two_clusters_kubeconfig(
    path: &std::path::Path,
    east: std::net::SocketAddr,
    west: std::net::SocketAddr,
) {
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: east\n  cluster:\n    server: http://{east}\n- name: west\n  cluster:\n    server: http://{west}\ncontexts:\n- name: east\n  context:\n    cluster: east\n    user: admin\n- name: west\n  context:\n    cluster: west\n    user: admin\ncurrent-context: east\nusers:\n- name: admin\n  user:\n    token: admin\n"
    );
    std::fs::write(path, text).unwrap();
}

#[test]
fn two_clusters_are_watched_and_edited_at_once_and_one_may_drop() {
    let rt = runtime();
    let east = rt.block_on(FakeApiServer::start()).unwrap();
    let west = rt.block_on(FakeApiServer::start()).unwrap();
    with_payments(&east);
    with_payments(&west);
    let dir = tempfile::tempdir().unwrap();
    two_clusters_kubeconfig(&dir.path().join("kubeconfig"), east.addr, west.addr);
    let two = ["--context", "east", "--context", "west"];
    let mut pty = console_sized(dir.path(), &two, 40, 200);
    // One ServiceEntry per cluster, side by side, and each cluster's own line.
    pty.wait_for("ServiceEntries [2]");
    pty.wait_for("ctx east: watching");
    pty.wait_for("ctx west: watching");
    pty.keys("2");
    pty.wait_for("WorkloadEntries [6]");
    assert!(pty.contents().contains("CLUSTER"), "{}", pty.contents());
    // The host is one service: its endpoints come from both clusters.
    pty.keys("1");
    pty.wait_for("ServiceEntries [2]");
    pty.send("\r");
    pty.wait_for("we/payments-vm-1@east");
    pty.wait_for("we/payments-vm-1@west");
    pty.send("\x1b");
    // An edit goes to the cluster that holds the entry, and only there (rows are in
    // namespace/name order, each name's clusters side by side: the second is west's vm-1).
    pty.keys("2");
    pty.wait_for("WorkloadEntries [6]");
    pty.keys("ggje");
    pty.wait_for("edit we shop/payments-vm-1 @west");
    pty.send("\x7f");
    pty.send("\x7f");
    pty.keys("33");
    pty.send("\r");
    pty.wait_for("apply these changes?");
    pty.send("\r");
    pty.wait_for("owned by field manager");
    pty.send("\r");
    pty.wait_for(" 33 ");
    let weight = |fake: &FakeApiServer| {
        fake.object("workloadentries", "shop", "payments-vm-1")
            .unwrap()["spec"]["weight"]
            .clone()
    };
    common::wait::until_blocking(
        "west holds the new weight",
        std::time::Duration::from_secs(10),
        || weight(&west),
        |w| *w == 33,
    );
    assert_eq!(weight(&east), 70);
    // West goes away: its line says so, east goes on being watched and followed.
    let mut west = west;
    west.stop();
    pty.wait_until("west is in trouble", |s| {
        s.lines().any(|l| {
            l.contains("ctx west:") && (l.contains("disconnected") || l.contains("retrying"))
        })
    });
    let mut vm2 = east
        .object("workloadentries", "shop", "payments-vm-2")
        .unwrap();
    vm2["spec"]["weight"] = serde_json::json!(44);
    east.upsert(vm2).unwrap();
    pty.wait_for(" 44 ");
    // West comes back where it was: what changed there meanwhile is seen, and it is watched.
    let mut vm3 = west
        .object("workloadentries", "shop", "payments-vm-3")
        .unwrap();
    vm3["spec"]["weight"] = serde_json::json!(55);
    west.upsert(vm3).unwrap();
    rt.block_on(west.resume()).unwrap();
    pty.wait_for_within(" 55 ", std::time::Duration::from_secs(40));
    pty.wait_until("west is watched again", |s| {
        s.contains("ctx west: watching") && !s.contains("disconnected")
    });
    pty.wait_for("WorkloadEntries [6]");
    pty.keys("q");
    assert!(pty.wait_exit().success());
}
